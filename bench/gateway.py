"""The gateway as the benchmark serves it: `uvicorn --factory bench.gateway:create_app`.

A worker of `flowgate serve --workers N` (`flowgate.workers.create_app`): settings from the
`FLOWGATE_*` environment and the logging they select (JSON lines in production); the harness
passes uvicorn the same options too (uvloop, httptools; `flowgate.workers.uvicorn_options`).
Every store URL must be set (the harness starts the stores and migrates them first)."""

from __future__ import annotations

from fastapi import FastAPI

from flowgate import workers
from flowgate.settings import load_settings


def create_app() -> FastAPI:
    settings = load_settings()
    if settings.database_url is None or settings.mongodb_url is None:
        raise SystemExit("bench.gateway needs FLOWGATE_DATABASE_URL and FLOWGATE_MONGODB_URL")
    return workers.create_app()
