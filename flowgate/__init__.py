"""Flowgate: two of the layers (pyproject.toml `[tool.importlinter]` names which module is
which). The shell (app factory, router, websockets, HTTP middlewares, CLI, demo) assembles the
rest; the adapters (stores, event bus, search index, auth, settings) talk to the outside world
and know neither the schema nor HTTP."""
