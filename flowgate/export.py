"""`GET /export/{executions,aggregate,usage}.csv`: a table an analyst takes to a spreadsheet.

Each export runs a GraphQL operation through the schema, as the signed-in caller: the same
permissions, the same filters (given as the operation's variables, JSON in the query
string), the same validation and errors. The first page runs before the answer starts, so
a bad filter is a 400 naming it; the rest streams, page by page, up to `export_max_rows`."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from flowgate.auth.authenticator import AuthenticationError
from flowgate.stores.roundtrips import start_counting
from resolvers.context import Context

router = APIRouter(prefix="/export")

EXECUTIONS = """
query Export($filter: ExecutionFilter, $after: String, $first: Int) {
  executions(first: $first, after: $after, filter: $filter) {
    edges { node { id status startedAt endedAt durationMs aiProvider aiCalls tokens
                   promptTokens completionTokens cost error
                   agent { id name } workflow { id name } startedBy { email } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
AGGREGATE = """
query Export($groupBy: [GroupKey!]!, $filter: ExecutionFilter, $orderBy: AggregateOrder,
             $first: Int) {
  executionAggregate(groupBy: $groupBy, filter: $filter, orderBy: $orderBy, first: $first) {
    key { status provider model category period agentId workflowId userId
          agent { name } workflow { name } user { email } }
    count succeeded failed successRate durationP50Ms durationP95Ms durationP99Ms
    aiCalls totalTokens promptTokens completionTokens cost
  }
}
"""
USAGE = """
query Export($since: DateTime, $until: DateTime, $bucket: UsageBucket!, $groupBy: UsageGroup!,
             $sources: [UsageSource!]) {
  usage(since: $since, until: $until, bucket: $bucket, groupBy: $groupBy, sources: $sources) {
    period provider model agent { id name } user { id email } messages calls tokens
    promptTokens completionTokens cost
  }
}
"""
# (CSV column, path in a result row)
EXECUTION_COLUMNS = [
    ("id", "id"), ("status", "status"), ("agent_id", "agent.id"), ("agent", "agent.name"),
    ("workflow_id", "workflow.id"), ("workflow", "workflow.name"),
    ("started_by", "startedBy.email"), ("started_at", "startedAt"), ("ended_at", "endedAt"),
    ("duration_ms", "durationMs"), ("ai_provider", "aiProvider"), ("ai_calls", "aiCalls"),
    ("tokens", "tokens"), ("prompt_tokens", "promptTokens"),
    ("completion_tokens", "completionTokens"), ("cost", "cost"), ("error", "error"),
]  # fmt: skip
AGGREGATE_COLUMNS = [
    ("period", "key.period"), ("agent_id", "key.agentId"), ("agent", "key.agent.name"),
    ("workflow_id", "key.workflowId"), ("workflow", "key.workflow.name"),
    ("user_id", "key.userId"), ("user", "key.user.email"), ("status", "key.status"),
    ("provider", "key.provider"), ("model", "key.model"), ("category", "key.category"),
    ("count", "count"), ("succeeded", "succeeded"), ("failed", "failed"),
    ("success_rate", "successRate"), ("duration_p50_ms", "durationP50Ms"),
    ("duration_p95_ms", "durationP95Ms"), ("duration_p99_ms", "durationP99Ms"),
    ("ai_calls", "aiCalls"), ("total_tokens", "totalTokens"), ("prompt_tokens", "promptTokens"),
    ("completion_tokens", "completionTokens"), ("cost", "cost"),
]  # fmt: skip


USAGE_COLUMNS = [
    ("period", "period"), ("provider", "provider"), ("model", "model"), ("agent_id", "agent.id"),
    ("agent", "agent.name"), ("user_id", "user.id"), ("user", "user.email"),
    ("messages", "messages"), ("calls", "calls"),
    ("tokens", "tokens"), ("prompt_tokens", "promptTokens"),
    ("completion_tokens", "completionTokens"), ("cost", "cost"),
]  # fmt: skip


class ExportInputError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("bad export request")
        self.errors = errors


@router.get("/executions.csv", summary="Executions as CSV (the `executions` filter).")
async def export_executions(request: Request) -> Response:
    run = await _runner(request)
    variables = _variables(request, "filter")
    limit = request.app.state.services.settings.export_max_rows
    page_size = min(request.app.state.services.settings.max_page_size, limit)
    first = await run(EXECUTIONS, {**variables, "first": page_size})

    async def rows() -> AsyncIterator[dict[str, Any]]:
        data, sent = first, 0
        while True:
            connection = data["executions"]
            for edge in connection["edges"]:
                if sent >= limit:
                    return
                sent += 1
                yield edge["node"]
            if not connection["pageInfo"]["hasNextPage"] or sent >= limit:
                return
            after = connection["pageInfo"]["endCursor"]
            data = await run(EXECUTIONS, {**variables, "first": page_size, "after": after})

    return _csv("executions", EXECUTION_COLUMNS, rows(), limit)


@router.get("/aggregate.csv", summary="`executionAggregate` as CSV.")
async def export_aggregate(request: Request) -> Response:
    run = await _runner(request)
    variables = _variables(request, "filter", "orderBy")
    group_by = request.query_params.get("groupBy", "")
    variables["groupBy"] = [key.strip().upper() for key in group_by.split(",") if key.strip()]
    if "first" in request.query_params:
        variables["first"] = _integer(request.query_params["first"], "first")
    data = await run(AGGREGATE, variables)
    limit = request.app.state.services.settings.export_max_rows

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for group in data["executionAggregate"][:limit]:
            yield group

    return _csv("aggregate", AGGREGATE_COLUMNS, rows(), limit)


@router.get("/usage.csv", summary="`usage` as CSV.")
async def export_usage(request: Request) -> Response:
    run = await _runner(request)
    params = request.query_params
    variables: dict[str, Any] = {
        "bucket": params.get("bucket", "day").upper(),
        "groupBy": params.get("groupBy", "provider").upper(),
    }
    for name in ("since", "until"):
        if name in params:
            variables[name] = params[name]
    if "sources" in params:  # comma-separated, as `groupBy` of the aggregate; "" names none
        named = params["sources"].split(",")
        variables["sources"] = [source.strip().upper() for source in named if source.strip()]
    data = await run(USAGE, variables)
    limit = request.app.state.services.settings.export_max_rows

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for point in data["usage"][:limit]:
            yield point

    return _csv("usage", USAGE_COLUMNS, rows(), limit)


async def _runner(request: Request) -> Callable[[str, dict[str, Any]], Any]:
    """Run operations as the request's caller; refuse a request without a credential."""
    from schema import schema  # the schema imports resolvers; keep the app import cheap

    app = request.app
    principal = await app.state.guards.authenticator.authenticate(
        request.headers.get("authorization")
    )
    if principal is None:
        raise AuthenticationError("An export needs `Authorization: Bearer <token or key>`")
    await app.state.guards.rate_limiter.check("principal", principal.rate_limit_key)

    async def run(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        # A context per page: loaders and counters belong to one operation.
        context = Context(app.state.services, app.state.guards, principal, start_counting())
        result = await schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise ExportInputError([dict(error.formatted) for error in result.errors])
        return result.data or {}

    return run


def _variables(request: Request, *names: str) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for name in names:
        if name in request.query_params:
            try:
                variables[name] = orjson.loads(request.query_params[name])
            except orjson.JSONDecodeError as error:
                raise _bad(name, f"is not JSON: {error}") from None
    return variables


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _bad(name, f"{value[:50]!r} is not an integer") from None


def _bad(name: str, problem: str) -> ExportInputError:
    message = f"Invalid query parameter `{name}`: {problem}"
    return ExportInputError([{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}])


def _csv(
    name: str,
    columns: list[tuple[str, str]],
    rows: AsyncIterator[dict[str, Any]],
    limit: int,
) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([column for column, _ in columns])
        async for row in rows:
            writer.writerow([_cell(_at(row, path)) for _, path in columns])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "X-Flowgate-Row-Cap": str(limit),
        },
    )


def _at(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell a spreadsheet would run as a formula (CSV injection): kept as text.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


async def export_input_error_response(_: Request, exc: Exception) -> Response:
    """The FastAPI exception handler for `ExportInputError`: 400 with GraphQL errors."""
    if not isinstance(exc, ExportInputError):
        raise exc
    status = 403 if any(_code(e) == "FORBIDDEN" for e in exc.errors) else 400
    return Response(
        orjson.dumps({"errors": exc.errors}), status_code=status, media_type="application/json"
    )


def _code(error: dict[str, Any]) -> Any:
    return (error.get("extensions") or {}).get("code")
