"""Flowgate: the app shell (settings, app factory, CLI, request context) and the adapters to
the outside world (stores, event bus, search index). Nothing here knows the schema."""
