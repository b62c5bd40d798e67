"""Prometheus metrics, served at `/metrics` (`flowgate.metrics_route`).

Every label takes a bounded set of values: operation names are normalised and capped
(`operation_label`), error codes are the server's own constants, stores and states are fixed.
Gauges that describe a process-wide object (the SQLAlchemy pool, the hub's subscribers, the
bus connection) are read at scrape time from the services that are open, so nothing has to
remember to update them. The search indexer's metrics live in `flowgate.search.metrics`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

from flowgate.stores.roundtrips import RoundTrips

if TYPE_CHECKING:
    from flowgate.services import Services

ROUND_TRIPS = Histogram(
    "flowgate_request_round_trips",
    "Database round trips per GraphQL operation, by store.",
    ["store"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)
OPERATIONS = Counter(
    "flowgate_graphql_operations_total",
    "GraphQL operations executed, by operation name and type.",
    ["operation", "type"],
)
OPERATION_SECONDS = Histogram(
    "flowgate_graphql_operation_seconds",
    "Time to answer a GraphQL operation (a subscription: until it ends), by name and type.",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter(
    "flowgate_graphql_errors_total",
    "Errors in GraphQL responses, by `extensions.code` (NONE: an error without a code).",
    ["code"],
)
RATE_LIMITED = Counter(
    "flowgate_rate_limit_rejections_total",
    "Requests refused with 429, by the limit they hit (principal, address, login).",
    ["scope"],
)
PREPARED_ANSWERS = Counter(
    "flowgate_prepared_answers_total",
    "Queries answered by the prepared path (compiled, without the field-by-field pipeline); "
    "outcome `fallback`: it gave up and the full path answered.",
    ["outcome"],
)
WEBSOCKETS = Gauge("flowgate_websocket_connections", "Websocket connections open now.")
SUBSCRIPTIONS = Gauge(
    "flowgate_active_subscriptions", "Subscriptions streaming now (subscribers on the hub)."
)
SUBSCRIPTION_RENDERS = Counter(
    "flowgate_subscription_renders_total",
    "Items of a subscription executed and encoded (once per group of alike subscribers).",
)
SUBSCRIPTION_DELIVERIES = Counter(
    "flowgate_subscription_deliveries_total",
    "Rendered subscription items handed to a subscriber's queue (merged ones included).",
)
SUBSCRIPTION_WRITTEN = Counter(
    "flowgate_subscription_written_total",
    "Of those, items written straight to an idle subscriber's socket (flowgate.sockets.wire)"
    " rather than queued for its task.",
)
POOL = Gauge(
    "flowgate_sql_pool_connections",
    "SQLAlchemy pool: connections checked out, idle in the pool, and the pool's size.",
    ["state"],
)
BUS_LAG = Histogram(
    "flowgate_event_bus_lag_seconds",
    "Time from publishing an execution event on the bus to its delivery to this process's hub.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BUS_RECONNECTS = Counter(
    "flowgate_event_bus_reconnects_total", "Times the Redis bus reconnected after losing Redis."
)
BUS_CONNECTED = Gauge(
    "flowgate_event_bus_connected", "1 when the event bus can deliver live updates, else 0."
)
GC_PAUSE = Histogram(
    "flowgate_gc_pause_seconds",
    "Time the garbage collector stopped the process (every thread) for one collection, by "
    "the oldest generation collected (2: a full collection). Timed by `flowgate.gc_tuning`.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

# -- operation names --------------------------------------------------------------------

MAX_OPERATION_NAMES = 200
ANONYMOUS = "anonymous"
# The name of every operation of a client that is not signed in, whatever it called it:
# anyone may send names, and 200 invented ones pushed every real operation into `other`.
UNAUTHENTICATED = "unauthenticated"
OTHER = "other"  # a well-formed name beyond the cap, or one that is not a GraphQL name
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")
_seen_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label of an operation name: the name itself for the first `MAX_OPERATION_NAMES`
    distinct names this process sees, `anonymous` for none, `other` beyond the cap. A client
    that invents a name per request cannot grow the series without bound."""
    if not name:
        return ANONYMOUS
    if name in _seen_names:
        return name
    if not _NAME.fullmatch(name) or len(_seen_names) >= MAX_OPERATION_NAMES:
        return OTHER
    _seen_names.add(name)
    return name


def code_label(code: object) -> str:
    """An error code as a label: codes are the server's constants; anything else is OTHER."""
    if code is None:
        return "NONE"
    return code if isinstance(code, str) and _CODE.fullmatch(code) else OTHER.upper()


# Labelled children found once: `labels()` takes a lock and builds its key on every call, and
# these are counted for every operation (issue 16). Their labels are bounded (see above).
_ROUND_TRIPS_SQL = ROUND_TRIPS.labels(store="postgresql")
_ROUND_TRIPS_MONGO = ROUND_TRIPS.labels(store="mongodb")
_operation_children: dict[tuple[str, str], tuple[Any, Any]] = {}


def observe_round_trips(round_trips: RoundTrips) -> None:
    _ROUND_TRIPS_SQL.observe(round_trips.sql)
    _ROUND_TRIPS_MONGO.observe(round_trips.mongo)


def observe_operation(label: str, type_: str, seconds: float) -> None:
    """Count one operation of this label and type, and how long it took."""
    children = _operation_children.get((label, type_))
    if children is None:
        children = (
            OPERATIONS.labels(operation=label, type=type_),
            OPERATION_SECONDS.labels(operation=label, type=type_),
        )
        _operation_children[(label, type_)] = children
    children[0].inc()
    children[1].observe(seconds)


# -- gauges read at scrape time -----------------------------------------------------------

# The open services (one per app; a test process may run several), added and removed by
# the app's lifespan.
_open: list[Services] = []


def watch(services: Services) -> None:
    """Report the pool, hub and bus of `services` in the scrape-time gauges."""
    _open.append(services)


def unwatch(services: Services) -> None:
    _open[:] = [other for other in _open if other is not services]


def _total(read: Callable[[Services], float]) -> Callable[[], float]:
    return lambda: float(sum(read(services) for services in list(_open)))


def _pool_reader(state: str) -> Callable[[Services], float]:
    def read(services: Services) -> float:
        pool: Any = services.postgres.engine.pool  # a QueuePool; others lack the counts
        if state == "checked_out":
            return float(getattr(pool, "checkedout", lambda: 0)())
        if state == "idle":
            return float(getattr(pool, "checkedin", lambda: 0)())
        return float(getattr(pool, "size", lambda: 0)())

    return read


def _subscribers(services: Services) -> float:
    return float(services.bus.hub.subscriber_count)


def _bus_connected(services: Services) -> float:
    return 1.0 if services.bus.connected else 0.0


for _state in ("checked_out", "idle", "size"):
    POOL.labels(state=_state).set_function(_total(_pool_reader(_state)))
SUBSCRIPTIONS.set_function(_total(_subscribers))
BUS_CONNECTED.set_function(_total(_bus_connected))
