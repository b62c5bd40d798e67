"""Alembic environment, async: migrations run over asyncpg like the app does.

When Flowgate drives Alembic from code (`flowgate.migrate`), it passes an open connection in
`config.attributes["connection"]`; the `alembic` command line opens its own, to the database
named by `FLOWGATE_DATABASE_URL` (read through Flowgate's settings, like everything else)."""

import asyncio

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_engine_from_config

import models.sql  # registers every table on the metadata
from flowgate.settings import SettingsError, load_settings

target_metadata = models.sql.Base.metadata
config = context.config


def database_url() -> str:
    """The URL from the config (set by `flowgate.migrate`), else from the environment."""
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    try:
        settings = load_settings()
    except SettingsError as error:  # one line naming the variable, not a traceback
        raise SystemExit(str(error)) from None
    if settings.database_url is None:
        raise SystemExit(
            "FLOWGATE_DATABASE_URL is not set: the alembic command needs a PostgreSQL URL "
            "(or use `flowgate migrate`, which also starts the embedded PostgreSQL)"
        )
    return settings.sqlalchemy_url.render_as_string(hide_password=False)


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = async_engine_from_config(
        {"sqlalchemy.url": database_url()},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    run_migrations(shared)
else:
    asyncio.run(run_async_migrations())
