"""The Alembic migrations on a fresh, empty database: they go up and down cleanly, and what
they build is exactly what the models declare (no drift between the two)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Enum, text
from sqlalchemy.ext.asyncio import create_async_engine

import models.sql
from flowgate import migrate
from flowgate.settings import Settings

if TYPE_CHECKING:  # at run time, pytest would try to collect `TestStores` as tests
    from tests.stores import TestStores

# What the models declare; the migrations must build exactly this.
TABLES = set(models.sql.Base.metadata.tables)
ENUMS = {
    column.type.name
    for table in models.sql.Base.metadata.tables.values()
    for column in table.columns
    if isinstance(column.type, Enum) and column.type.name
}


async def _fresh_settings(test_stores: TestStores, purpose: str) -> Settings:
    url = await test_stores.create_database(purpose)
    return Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


async def _query_names(settings: Settings, sql: str) -> set[str]:
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as connection:
            return set((await connection.execute(text(sql))).scalars())
    finally:
        await engine.dispose()


async def _tables(settings: Settings) -> set[str]:
    return await _query_names(
        settings,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_name <> 'alembic_version'",
    )


async def _enums(settings: Settings) -> set[str]:
    return await _query_names(settings, "SELECT typname FROM pg_type WHERE typtype = 'e'")


async def test_upgrade_downgrade_upgrade_on_an_empty_database(test_stores: TestStores) -> None:
    # given
    settings = await _fresh_settings(test_stores, "updown")
    assert await _tables(settings) == set()

    # when / then: up
    await migrate.upgrade(settings)
    assert {"organizations", "agents", "executions"} <= TABLES
    assert await _tables(settings) == TABLES
    assert await _enums(settings) == ENUMS
    assert await migrate.current_revision(settings) == migrate.head_revision(settings)

    # when / then: down to nothing, enum types included
    await migrate.downgrade(settings, "base")
    assert await _tables(settings) == set()
    assert await _enums(settings) == set()
    assert await migrate.current_revision(settings) is None

    # when / then: up again
    await migrate.upgrade(settings)
    assert await _tables(settings) == TABLES
    assert await migrate.current_revision(settings) == migrate.head_revision(settings)


async def test_migrations_match_the_models(test_stores: TestStores) -> None:
    # given
    settings = await _fresh_settings(test_stores, "drift")
    await migrate.upgrade(settings)

    # when
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, models.sql.Base.metadata))

    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()

    # then
    assert differences == [], f"models and migrations differ: {differences}"


async def _index_definitions(settings: Settings) -> set[str]:
    return await _query_names(
        settings,
        "SELECT indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' AND tablename <> 'alembic_version'",
    )


async def test_the_migrations_build_the_models_indexes_exactly(test_stores: TestStores) -> None:
    """Alembic's comparison leaves out what an index carries (`INCLUDE`) and how it is
    built: PostgreSQL's own definitions of the two databases' indexes are compared."""
    # given
    migrated = await _fresh_settings(test_stores, "indexes_migrated")
    declared = await _fresh_settings(test_stores, "indexes_declared")
    await migrate.upgrade(migrated)
    engine = create_async_engine(declared.sqlalchemy_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(models.sql.Base.metadata.create_all)
    finally:
        await engine.dispose()

    # when
    from_migrations = await _index_definitions(migrated)
    from_models = await _index_definitions(declared)

    # then
    assert any("INCLUDE (organization_id, workflow_id)" in d for d in from_models)
    assert from_migrations ^ from_models == set(), "indexes differ (migrations ^ models)"


async def _execution_columns(settings: Settings) -> set[str]:
    return await _query_names(
        settings,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'executions'",
    )


async def test_the_token_split_adds_and_drops_its_two_columns(test_stores: TestStores) -> None:
    # given: the chain up to the revision before
    settings = await _fresh_settings(test_stores, "tokensplit")
    await migrate.upgrade(settings, "0009")
    split = {"prompt_tokens", "completion_tokens"}
    assert not split & await _execution_columns(settings)

    # when / then: up, the parts are there beside the total
    await migrate.upgrade(settings, "0010")
    assert split | {"tokens"} <= await _execution_columns(settings)

    # when / then: down, only they are gone
    await migrate.downgrade(settings, "0009")
    columns = await _execution_columns(settings)
    assert "tokens" in columns and not split & columns
    assert await migrate.current_revision(settings) == "0009"
