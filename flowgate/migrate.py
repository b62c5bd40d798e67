"""Alembic, driven from code: `flowgate migrate`, `flowgate demo` and the tests share this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from flowgate.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # `%` is Alembic's interpolation character; a password may contain one.
    url = settings.sqlalchemy_url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(settings: Settings, revision: str = "head") -> None:
    await _run(settings, lambda config: command.upgrade(config, revision))


async def downgrade(settings: Settings, revision: str) -> None:
    await _run(settings, lambda config: command.downgrade(config, revision))


async def current_revision(settings: Settings) -> str | None:
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def head_revision(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


async def _run(settings: Settings, action: object) -> None:
    """Run an Alembic command on a connection we opened, inside our event loop: `env.py`
    uses the connection from `config.attributes` instead of starting a loop of its own."""
    config = alembic_config(settings)
    engine = create_async_engine(settings.sqlalchemy_url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)  # type: ignore[operator]

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()
