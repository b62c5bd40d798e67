"""Benchmarks: run each module with `uv run python -m bench.<name>`."""
