"""Logins, API keys and roles: the writes that decide who may act."""
