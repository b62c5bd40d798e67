"""A libpq URL as managed PostgreSQL services hand it out works as `FLOWGATE_DATABASE_URL`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres


def test_libpq_options_are_translated_for_asyncpg() -> None:
    settings = Settings(
        database_url="postgresql://u:p@db.example:5432/app?sslmode=require&channel_binding=require",
        _env_file=None,  # type: ignore[call-arg]
    )
    url = settings.sqlalchemy_url
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {"ssl": "require"}


async def test_a_libpq_url_connects(settings: Settings) -> None:
    # given: the session's database, named the way a managed service names one
    assert settings.database_url is not None
    separator = "&" if "?" in settings.database_url else "?"
    libpq = f"{settings.database_url}{separator}sslmode=prefer&channel_binding=prefer"
    postgres = Postgres(settings.model_copy(update={"database_url": libpq}))
    try:
        # when / then: a query runs (before, asyncpg raised TypeError on `sslmode`)
        async with postgres.session() as session:
            assert await session.scalar(text("select 1")) == 1
    finally:
        await postgres.close()


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-full"])
def test_every_sslmode_is_passed_on(mode: str) -> None:
    settings = Settings(
        database_url=f"postgresql://db.example/app?sslmode={mode}",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert dict(settings.sqlalchemy_url.query) == {"ssl": mode}
