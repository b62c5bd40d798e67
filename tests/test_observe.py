"""Observability: the metrics at /metrics, OpenTelemetry spans, and the request log line.

Spans go to the OpenTelemetry SDK's `InMemorySpanExporter` (a real exporter that keeps what
it is given); log lines are read back from the stream that `flowgate.logs` writes them to."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from flowgate import metrics, tracing
from flowgate.auth.rate_limit import MemoryCounter, RateLimited, RateLimiter
from flowgate.bus.message import BusMessage
from flowgate.logs import BoundOnce, configure_logging
from flowgate.services import Services
from flowgate.settings import Settings
from resolvers.loaders import Loaders
from resolvers.loaders.by_id import AgentByIdLoader
from tests.auth import ADMIN, api_key_for, bearer
from tests.compiled import plain_app
from tests.ws import connect

NAMED = "query ObserveAgents { agents(first: 2) { edges { node { name } } } }"
UNNAMED = "{ agents(first: 1) { totalCount } }"
INVALID = "query ObserveInvalid { agents(first: 1) { nope } }"
BAD_INPUT = 'query ObserveBadInput { agent(id: "not an id") { name } }'
TRACED = """
query TracedAgents {
  agents(first: 3) { edges { node { name owner { email } flowchart { id } } } }
}
"""
UPDATES = "subscription ObserveUpdates { executionUpdates { id status } }"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics answer, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def _key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


# -- metrics -----------------------------------------------------------------------------------


async def test_operations_latency_and_errors_are_counted_by_name_type_and_code(
    client: httpx.AsyncClient,
) -> None:
    # given
    named = _key("flowgate_graphql_operations_total", operation="ObserveAgents", type="query")
    latency = _key(
        "flowgate_graphql_operation_seconds_count", operation="ObserveAgents", type="query"
    )
    anonymous = _key("flowgate_graphql_operations_total", operation="anonymous", type="query")
    invalid = _key("flowgate_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
    bad_input = _key("flowgate_graphql_errors_total", code="BAD_USER_INPUT")
    before = await scrape(client)

    # when
    for query in (NAMED, NAMED, UNNAMED, INVALID, BAD_INPUT):
        await client.post("/graphql", json={"query": query})
    after = await scrape(client)

    # then
    assert after[named] - before.get(named, 0) == 2
    assert after[latency] - before.get(latency, 0) == 2
    assert after[anonymous] - before.get(anonymous, 0) >= 1
    assert after[invalid] - before.get(invalid, 0) == 1
    assert after[bad_input] - before.get(bad_input, 0) == 1


async def test_pool_websockets_subscriptions_and_bus_lag_are_exported(
    app: FastAPI, client: httpx.AsyncClient, live_server: str, admin_payload: dict[str, str]
) -> None:
    # given: a dashboard subscribed over a websocket
    sockets = _key("flowgate_websocket_connections")
    subscriptions = _key("flowgate_active_subscriptions")
    lag = _key("flowgate_event_bus_lag_seconds_count")
    before = await scrape(client)
    async with connect(f"ws://{live_server}/graphql", admin_payload) as ws:
        await ws.subscribe(UPDATES)
        deadline = asyncio.get_running_loop().time() + 10
        while (during := await scrape(client))[subscriptions] <= before[subscriptions]:
            assert asyncio.get_running_loop().time() < deadline, "no subscriber on the hub"
            await asyncio.sleep(0.05)

        # when: an event goes over the bus (of another organization: nobody receives it)
        services: Services = app.state.services
        message = {"execution_id": str(uuid.uuid4()), "organization_id": str(uuid.uuid4())}
        await services.bus.publish(BusMessage.from_body({**message, "type": "status_changed"}))
        while (published := await scrape(client))[lag] <= before.get(lag, 0):
            assert asyncio.get_running_loop().time() < deadline, "the bus lag was not observed"
            await asyncio.sleep(0.05)

    # then
    assert during[sockets] >= before[sockets] + 1
    assert during[subscriptions] >= 1
    assert published[lag] >= before.get(lag, 0) + 1
    assert during[_key("flowgate_sql_pool_connections", state="size")] >= 1
    assert _key("flowgate_event_bus_connected") in during
    assert _key("flowgate_search_index_lag_seconds") in during
    assert _key("flowgate_request_round_trips_count", store="mongodb") in during


async def test_rate_limit_rejections_are_counted_by_scope() -> None:
    # given: a limit of one request per window
    limiter = RateLimiter(MemoryCounter(), per_principal=1, per_address=1, window=60)
    counted = metrics.RATE_LIMITED.labels(scope="address")
    before = counted._value.get()

    # when
    await limiter.check("address", "192.0.2.1")
    with pytest.raises(RateLimited):
        await limiter.check("address", "192.0.2.1")

    # then
    assert counted._value.get() == before + 1


@pytest.fixture
def fresh_names() -> Iterator[None]:
    saved = set(metrics._seen_names)
    metrics._seen_names.clear()
    try:
        yield
    finally:
        metrics._seen_names.clear()
        metrics._seen_names.update(saved)


@pytest.mark.usefixtures("fresh_names")
def test_operation_names_are_bounded() -> None:
    # when: a client invents a new name per request, and sends odd ones
    labels = {metrics.operation_label(f"Generated{n}") for n in range(1000)}

    # then: the first names are kept, the rest share one label
    assert len(labels) == metrics.MAX_OPERATION_NAMES + 1
    assert metrics.OTHER in labels
    assert metrics.operation_label(None) == metrics.ANONYMOUS
    assert metrics.operation_label("Generated0") == "Generated0"
    assert metrics.operation_label("x" * 200) == metrics.OTHER


# -- tracing -----------------------------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.enable(exporter, batch=False)
    try:
        yield exporter
    finally:
        tracing.disable()


def _one(found: list[ReadableSpan], name: str) -> ReadableSpan:
    named = [span for span in found if span.name == name]
    assert len(named) == 1, [span.name for span in found]
    return named[0]


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


@pytest.fixture
async def plain_client(
    settings: Settings, services: Services, admin_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The admin's client of an app that answers every field through the resolvers: the
    loader spans are theirs (the compiled path answers TracedAgents in one statement and
    one MongoDB query, with no loader)."""
    async with asynccontextmanager(plain_app)(settings, services) as application:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://flowgate.test", headers=bearer(admin_key)
        ) as http:
            yield http


async def test_one_request_yields_a_span_tree(
    plain_client: httpx.AsyncClient, spans: InMemorySpanExporter, services: Services
) -> None:
    # when
    response = await plain_client.post("/graphql", json={"query": TRACED})
    body = response.json()
    assert "errors" not in body, body

    # then: one operation span, named and labelled, at the root of its trace
    _, principal = await api_key_for(services, ADMIN, "observe")
    organization = str(principal.organization_id)
    operation = _one(list(spans.get_finished_spans()), "query TracedAgents")
    trace = [
        s for s in spans.get_finished_spans() if s.context.trace_id == operation.context.trace_id
    ]
    assert operation.parent is None
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "TracedAgents"
    assert operation.attributes["flowgate.organization_id"] == organization

    # a span per loader batch under it
    owners = _one(trace, "loader UserByIdLoader")
    flowcharts = _one(trace, "loader FlowchartByAgentIdLoader")
    assert _parent(owners) == _parent(flowcharts) == operation.context.span_id

    # a span per database call: the page's SQL under the operation, each batch's under its
    # loader, exactly as many as the round trips counted
    sql = [s for s in trace if s.name.startswith("postgresql ")]
    mongo = [s for s in trace if s.name.startswith("mongodb ")]
    assert len(sql) == body["extensions"]["roundTrips"]["sql"]
    assert len(mongo) == body["extensions"]["roundTrips"]["mongo"]
    assert {_parent(s) for s in sql} == {operation.context.span_id, owners.context.span_id}
    assert [_parent(s) for s in mongo] == [flowcharts.context.span_id]
    assert mongo[0].attributes is not None and mongo[0].attributes["db.operation"] == "find"
    for span in trace:
        assert span.attributes is not None
        assert span.attributes["flowgate.organization_id"] == organization, span.name
        assert span.attributes["graphql.operation.name"] == "TracedAgents", span.name


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (TRACED, "TracedAgents"),  # with MongoDB fields: the JSON decoded and stitched
        ("query TracedNames { agents(first: 2) { edges { node { name } } } }", "TracedNames"),
    ],
)
async def test_a_compiled_statement_is_traced_and_counted(
    client: httpx.AsyncClient, spans: InMemorySpanExporter, query: str, name: str
) -> None:
    # The compiled statement goes to the driver directly, not through the engine's events
    # (`Postgres.fetch_value`): it still has its span under the operation, counted once.
    # Asked twice: the full path, then the prepared path.
    for _ in range(2):
        spans.clear()
        body = (await client.post("/graphql", json={"query": query})).json()
        assert "errors" not in body, body
        finished = list(spans.get_finished_spans())
        operation = _one(finished, f"query {name}")
        trace = operation.context.trace_id  # not the credential's reads, before it
        sql = [
            s for s in finished if s.name.startswith("postgresql ") and s.context.trace_id == trace
        ]
        assert len(sql) == body["extensions"]["roundTrips"]["sql"] == 1
        assert _parent(sql[0]) == operation.context.span_id
        assert sql[0].attributes is not None
        assert sql[0].attributes["graphql.operation.name"] == name
        assert "json_build_object" in str(sql[0].attributes["db.statement"])


async def test_tracing_off_sets_nothing_up(client: httpx.AsyncClient, services: Services) -> None:
    # given: no endpoint configured (the session's settings)
    assert services.settings.otlp_endpoint is None
    assert not tracing.enabled()

    # when
    response = await client.post("/graphql", json={"query": TRACED})
    assert "errors" not in response.json()

    # then: no provider, and loaders run their own batch function, unwrapped
    assert tracing._provider is None
    _, principal = await api_key_for(services, ADMIN, "observe")
    loaders = Loaders(services, principal)
    assert loaders.agent_by_id.batch_load_fn.__func__ is AgentByIdLoader.batch_load_fn  # type: ignore[attr-defined]


# -- the request log line ----------------------------------------------------------------------


@contextmanager
def logging_to(stream: io.StringIO, *, production: bool) -> Iterator[None]:
    """`configure_logging` into `stream`, and the test process's logging back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    saved_config = structlog.get_config()
    quieted = [logging.getLogger(name) for name in ("strawberry.execution", "uvicorn.access")]
    configure_logging(production=production, stream=stream)
    try:
        yield
    finally:
        structlog.configure(**saved_config)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger in quieted:
            logger.disabled = False


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    with logging_to(stream, production=True):
        yield stream


def _request_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("event") == "request"]


async def test_one_json_line_per_request(
    client: httpx.AsyncClient, log_lines: io.StringIO, services: Services
) -> None:
    # given
    _, principal = await api_key_for(services, ADMIN, "observe")

    # when: a good request and one with an error
    good = await client.post("/graphql", json={"query": NAMED})
    bad = await client.post("/graphql", json={"query": BAD_INPUT})

    # then: one line each, under the id the client was sent
    first, second = _request_lines(log_lines)
    request_id = good.headers["x-request-id"]
    assert first["request_id"] == request_id == good.json()["extensions"]["requestId"]
    assert first["operation"] == "ObserveAgents"
    assert first["operation_type"] == "query"
    assert first["status"] == 200
    assert first["organization_id"] == str(principal.organization_id)
    assert first["user_id"] == str(principal.user_id)
    assert first["round_trips"] == good.json()["extensions"]["roundTrips"]
    assert first["error_codes"] == []
    assert first["duration_ms"] >= 0
    assert first["level"] == "info"
    assert second["request_id"] == bad.headers["x-request-id"]
    assert second["error_codes"] == ["BAD_USER_INPUT"]
    # and only that line: an expected error is not logged again with a traceback
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert [line["event"] for line in lines if line.get("request_id") == second["request_id"]] == [
        "request"
    ]
    # never the credential
    secret = client.headers["authorization"].removeprefix("Bearer ")
    assert secret not in log_lines.getvalue()
    assert "credential" not in first


def test_development_logs_are_for_a_console() -> None:
    # given
    stream = io.StringIO()
    with logging_to(stream, production=False):
        # when
        structlog.get_logger("flowgate.request").info("request", operation="Dev", status=200)

    # then: not JSON, but the event and its fields in one line
    [line] = stream.getvalue().splitlines()
    assert "request" in line
    assert "operation" in line and "Dev" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_logger_bound_once_follows_each_configuration() -> None:
    # given: a logger bound once, used under one configuration
    logger = BoundOnce("flowgate.request")
    first, second = io.StringIO(), io.StringIO()
    with logging_to(first, production=True):
        logger.get().info("request", n=1)
        assert logger.get() is logger.get()  # bound once while the configuration stays
        # when: a test captures the lines, then the process configures logging again
        with structlog.testing.capture_logs() as captured:
            logger.get().info("request", n=2)
    with logging_to(second, production=True):
        logger.get().info("request", n=3)
    # and then logging is back to the test process's own
    with structlog.testing.capture_logs() as after_reset:
        logger.get().info("request", n=4)

    # then: each line went where the configuration of its time sent it
    assert [json.loads(line)["n"] for line in first.getvalue().splitlines()] == [1]
    assert [entry["n"] for entry in captured] == [2]
    assert [json.loads(line)["n"] for line in second.getvalue().splitlines()] == [3]
    assert [entry["n"] for entry in after_reset] == [4]
