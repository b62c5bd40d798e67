"""The stores the suite runs against: the servers named by `FLOWGATE_*_URL` when set, else
embedded PostgreSQL and SecantusDB started for the session. Either way every database the
suite touches is its own (`flowgate_test_<pid>...`), created here and dropped at the end."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from flowgate.stores.embedded import EmbeddedPostgres, EmbeddedSecantus


@dataclass
class TestStores:
    postgres_admin_url: str  # a maintenance database on the server, for CREATE DATABASE
    mongodb_url: str
    embedded_postgres: EmbeddedPostgres | None = None
    embedded_mongo: EmbeddedSecantus | None = None
    created_databases: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, tmp_dir: Path) -> TestStores:
        postgres_url = os.environ.get("FLOWGATE_DATABASE_URL")
        embedded_postgres = None
        if postgres_url is None:
            embedded_postgres = EmbeddedPostgres(tmp_dir)
            postgres_url = embedded_postgres.start()
        mongodb_url = os.environ.get("FLOWGATE_MONGODB_URL")
        embedded_mongo = None
        if mongodb_url is None:
            embedded_mongo = EmbeddedSecantus(None)  # in memory: nothing to clean up
            mongodb_url = embedded_mongo.start()
        return cls(postgres_url, mongodb_url, embedded_postgres, embedded_mongo)

    async def create_database(self, purpose: str) -> str:
        """A fresh, empty PostgreSQL database; returns its URL."""
        name = f"flowgate_test_{os.getpid()}_{purpose}_{uuid.uuid4().hex[:6]}"
        connection = await asyncpg.connect(_asyncpg_dsn(self.postgres_admin_url))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.created_databases.append(name)
        url = make_url(self.postgres_admin_url).set(database=name, drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)

    async def drop_databases(self) -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(self.postgres_admin_url))
        try:
            for name in self.created_databases:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    def stop(self) -> None:
        if self.embedded_mongo is not None:
            self.embedded_mongo.stop()
        if self.embedded_postgres is not None:
            self.embedded_postgres.stop()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
