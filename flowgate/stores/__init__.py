"""Adapters to the stores: how to open, check and close each, and the embedded servers."""
