"""The gateway as the benchmark serves it: `uvicorn --factory bench.gateway:create_app`.

The same app `flowgate serve` builds, with settings from the `FLOWGATE_*` environment; every
store URL must be set (the harness starts the stores and migrates them first)."""

from __future__ import annotations

from fastapi import FastAPI

from flowgate.app import create_app as flowgate_app
from flowgate.settings import load_settings


def create_app() -> FastAPI:
    settings = load_settings()
    if settings.database_url is None or settings.mongodb_url is None:
        raise SystemExit("bench.gateway needs FLOWGATE_DATABASE_URL and FLOWGATE_MONGODB_URL")
    return flowgate_app(settings)
