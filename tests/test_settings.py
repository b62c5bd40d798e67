"""Settings come only from `FLOWGATE_*` variables; a bad one fails at start-up with one line
that names the variable, never with a driver traceback at the first query."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowgate.settings import Settings, SettingsError, load_settings

URL_VARIABLES = [
    "FLOWGATE_DATABASE_URL",
    "FLOWGATE_MONGODB_URL",
    "FLOWGATE_REDIS_URL",
    "FLOWGATE_ELASTICSEARCH_URL",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No FLOWGATE_* variable from the caller's environment (CI sets some), and no `.env`."""
    for variable in [*URL_VARIABLES, "FLOWGATE_PORT", "FLOWGATE_ENVIRONMENT"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLOWGATE_DATABASE_URL", "not-a-url"),
        ("FLOWGATE_DATABASE_URL", "mysql://root@localhost/flowgate"),
        ("FLOWGATE_MONGODB_URL", "not-a-url"),
        ("FLOWGATE_MONGODB_URL", "mongodb://"),
        ("FLOWGATE_MONGODB_URL", "postgresql://localhost/flowgate"),
        ("FLOWGATE_REDIS_URL", "localhost:6379"),
        ("FLOWGATE_ELASTICSEARCH_URL", "elasticsearch:9200"),
        ("FLOWGATE_PORT", "eighty"),
        ("FLOWGATE_PORT", "70000"),
        ("FLOWGATE_ENVIRONMENT", "staging"),
    ],
)
def test_a_bad_value_names_its_variable_in_one_line(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    # given
    clean_env.setenv(variable, value)

    # when
    with pytest.raises(SettingsError) as raised:
        load_settings()

    # then
    message = str(raised.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message


def test_every_bad_variable_is_named_at_once(clean_env: pytest.MonkeyPatch) -> None:
    # given
    clean_env.setenv("FLOWGATE_DATABASE_URL", "not-a-url")
    clean_env.setenv("FLOWGATE_REDIS_URL", "not-a-url")

    # when
    with pytest.raises(SettingsError) as raised:
        load_settings()

    # then
    assert "FLOWGATE_DATABASE_URL" in str(raised.value)
    assert "FLOWGATE_REDIS_URL" in str(raised.value)


def test_unset_urls_select_the_embedded_defaults(clean_env: pytest.MonkeyPatch) -> None:
    # when
    settings = load_settings()

    # then
    assert settings.database_url is None
    assert settings.mongodb_url is None
    assert settings.redis_url is None
    assert settings.elasticsearch_url is None
    assert settings.environment == "development"


def test_good_urls_are_kept_and_the_database_url_gets_the_asyncpg_driver(
    clean_env: pytest.MonkeyPatch,
) -> None:
    # given
    clean_env.setenv("FLOWGATE_DATABASE_URL", "postgresql://flowgate:secret@postgres:5432/flowgate")
    clean_env.setenv("FLOWGATE_MONGODB_URL", "mongodb://mongo:27017/?replicaSet=rs0")
    clean_env.setenv("FLOWGATE_REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("FLOWGATE_ELASTICSEARCH_URL", "http://elasticsearch:9200")
    clean_env.setenv("FLOWGATE_ENVIRONMENT", "production")
    clean_env.setenv("FLOWGATE_AUTH_SECRET", "f" * 64)

    # when
    settings = load_settings()

    # then
    assert settings.sqlalchemy_url.drivername == "postgresql+asyncpg"
    assert settings.sqlalchemy_url.host == "postgres"
    assert settings.mongodb_url == "mongodb://mongo:27017/?replicaSet=rs0"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.elasticsearch_url == "http://elasticsearch:9200"
    assert settings.is_production


def test_the_database_url_is_unusable_until_resolved() -> None:
    # given
    settings = Settings(database_url=None, _env_file=None)  # type: ignore[call-arg]

    # then
    with pytest.raises(RuntimeError, match="embedded"):
        _ = settings.sqlalchemy_url


def test_production_without_a_signing_secret_is_one_line_naming_the_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("FLOWGATE_ENVIRONMENT", "production")

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert str(error.value).startswith("FLOWGATE_AUTH_SECRET: production needs")
    assert "\n" not in str(error.value)
