"""Dashboard statistics over a time window: aggregates computed in the stores, not here.

`dashboard_stats` costs three SQL statements on one connection (status and provider totals
with the duration percentiles, the per-day series, the top failing agents). The per-node-type
figures are one MongoDB aggregation over execution traces, `node_type_stats`, run only when
the client asks for them: it is by far the slowest part on the embedded SecantusDB, and a
MongoDB outage then costs only that field. Python only reshapes the few aggregate rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pymongo.errors import ConnectionFailure
from sqlalchemy import DateTime, Select, cast, func, literal, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Date

from models.documents import ExecutionTrace
from models.enums import ExecutionStatus, NodeType, StepStatus
from models.sql import Agent, Execution
from resolvers import access
from resolvers.errors import BadInputError, StoreDownError
from resolvers.ids import parse_id

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.stores.postgres import Postgres
    from resolvers.context import Context

DEFAULT_WINDOW = timedelta(days=30)
# A year plus a leap day: enough for yearly dashboards, and it bounds the per-day series.
MAX_WINDOW = timedelta(days=366)
TOP_FAILING_AGENTS = 5


@dataclass(frozen=True)
class StatsScope:
    """Whose executions, and which: every figure of one request is computed over this."""

    organization_id: uuid.UUID
    since: datetime
    until: datetime  # exclusive
    agent_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    # The workflows whose executions count (`access.readable_workflow_ids`); None: all.
    readable_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class StatusCount:
    status: ExecutionStatus
    count: int


@dataclass(frozen=True)
class ProviderUsage:
    provider: str | None  # None: executions that called no AI provider
    executions: int
    cost: Decimal
    tokens: int


@dataclass(frozen=True)
class DailyCount:
    day: date  # a UTC calendar day
    total: int
    succeeded: int
    failed: int


@dataclass(frozen=True)
class AgentFailures:
    agent: Agent
    failures: int
    executions: int


@dataclass(frozen=True)
class NodeTypeStats:
    node_type: NodeType
    steps: int
    average_duration_ms: float | None
    failure_rate: float | None


@dataclass(frozen=True)
class DashboardStatsData:
    scope: StatsScope
    total_executions: int
    by_status: list[StatusCount]
    success_rate: float | None
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    total_cost: Decimal
    total_tokens: int
    human_interventions: int
    by_provider: list[ProviderUsage]
    per_day: list[DailyCount]
    top_failing_agents: list[AgentFailures]


async def dashboard_stats(
    info: Info[Context],
    *,
    since: datetime | None,
    until: datetime | None,
    agent_id: str | None,
    workflow_id: str | None,
) -> DashboardStatsData:
    """The SQL figures for the principal's organization over [since, until); the scope they
    carry is what `node_type_stats` takes."""
    scope = parse_scope(info.context.principal.organization_id, since, until, agent_id, workflow_id)
    if scope.workflow_id is not None:
        await check_workflow_readable(info, scope.workflow_id, "workflowId")
    # Figures count only what the principal may read, as `executions` lists it.
    readable = await info.context.loaders.readable_workflow_ids.get()
    return await figures(info.context.services.postgres, replace(scope, readable_ids=readable))


async def figures(postgres: Postgres, scope: StatsScope) -> DashboardStatsData:
    """The SQL figures of a checked scope (`dashboardStatsChanged` recomputes them as the
    window slides, without checking its arguments again)."""
    summary, per_day, top_failing = await _sql_figures(postgres, scope)
    by_status, total, by_provider, p50, p95, interventions = summary
    counts = {row.status: row.count for row in by_status}
    finished = sum(counts[status] for status in _FINISHED)
    return DashboardStatsData(
        scope=scope,
        total_executions=total.executions,
        by_status=by_status,
        success_rate=counts[ExecutionStatus.SUCCEEDED] / finished if finished else None,
        duration_p50_ms=p50,
        duration_p95_ms=p95,
        total_cost=total.cost,
        total_tokens=total.tokens,
        human_interventions=interventions,
        by_provider=by_provider,
        per_day=per_day,
        top_failing_agents=top_failing,
    )


async def check_workflow_readable(
    info: Info[Context], workflow_id: uuid.UUID, argument: str
) -> None:
    """The figures of a workflow are the principal's to see only if the workflow is."""
    if (
        not access.is_admin(info.context.principal)
        and await info.context.loaders.workflow_by_id.load(workflow_id) is None
    ):
        raise BadInputError(argument, "names no workflow you may read")


_FINISHED = (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)


def parse_scope(
    organization_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
    agent_id: str | None,
    workflow_id: str | None,
) -> StatsScope:
    """Validate the arguments; a datetime without a time zone is taken as UTC."""
    until = _aware(until) if until is not None else datetime.now(UTC)
    since = _aware(since) if since is not None else until - DEFAULT_WINDOW
    if since >= until:
        raise BadInputError("since", "must be before `until`")
    if until - since > MAX_WINDOW:
        raise BadInputError("since", f"the window may span at most {MAX_WINDOW.days} days")
    return StatsScope(
        organization_id=organization_id,
        since=since,
        until=until,
        agent_id=(
            parse_id(agent_id, "Agent", argument="agentId") if agent_id is not None else None
        ),
        workflow_id=(
            parse_id(workflow_id, "Workflow", argument="workflowId")
            if workflow_id is not None
            else None
        ),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- PostgreSQL ---------------------------------------------------------------------------

_Summary = tuple[
    list[StatusCount], ProviderUsage, list[ProviderUsage], float | None, float | None, int
]


async def _sql_figures(
    postgres: Postgres, scope: StatsScope
) -> tuple[_Summary, list[DailyCount], list[AgentFailures]]:
    # One session, statements in turn: an AsyncSession must never run two at once, and one
    # connection per request keeps the pool free for other requests (each statement takes
    # milliseconds; running them on three connections would save little).
    async with postgres.session() as session:
        summary = await _summary(session, scope)
        per_day = await _per_day(session, scope)
        top_failing = await _top_failing_agents(session, scope)
    return summary, per_day, top_failing


def _in_scope(scope: StatsScope) -> list[ColumnElement[bool]]:
    conditions = [
        Execution.organization_id == scope.organization_id,
        Execution.started_at >= scope.since,
        Execution.started_at < scope.until,
    ]
    if scope.agent_id is not None:
        conditions.append(Execution.agent_id == scope.agent_id)
    if scope.workflow_id is not None:
        conditions.append(Execution.workflow_id == scope.workflow_id)
    if scope.readable_ids is not None:
        conditions.append(access.of_readable_workflows(scope.readable_ids))
    return conditions


async def _summary(session: AsyncSession, scope: StatsScope) -> _Summary:
    """Counts, cost and tokens per status, per provider and in total, in one scan: GROUPING
    SETS yield a row per status, a row per provider and the grand total, which alone carries
    the (window-wide) duration percentiles."""
    # grouping(status, ai_provider): 1 = a per-status row, 2 = per-provider, 3 = the total.
    grouping = func.grouping(Execution.status, Execution.ai_provider).label("grouping")
    executions = func.count().label("executions")
    query: Select[Any] = (
        select(
            grouping,
            Execution.status,
            Execution.ai_provider,
            executions,
            func.coalesce(func.sum(Execution.cost), 0).label("cost"),
            func.coalesce(func.sum(Execution.tokens), 0).label("tokens"),
            func.coalesce(func.sum(Execution.human_interventions), 0).label("interventions"),
            func.percentile_cont(0.5).within_group(Execution.duration_ms).label("p50"),
            func.percentile_cont(0.95).within_group(Execution.duration_ms).label("p95"),
        )
        .where(*_in_scope(scope))
        .group_by(
            func.grouping_sets(tuple_(Execution.status), tuple_(Execution.ai_provider), tuple_())
        )
        .order_by(grouping, executions.desc(), Execution.ai_provider)
    )
    rows = (await session.execute(query)).all()
    counts = {row.status: row.executions for row in rows if row.grouping == 1}
    by_status = [StatusCount(status, counts.get(status, 0)) for status in ExecutionStatus]
    by_provider = [_usage(row) for row in rows if row.grouping == 2]
    # With no row in scope, GROUPING SETS still yield the grand total (count 0, no
    # percentiles), so there is always exactly one.
    (total_row,) = (row for row in rows if row.grouping == 3)
    interventions = int(total_row.interventions)
    return by_status, _usage(total_row), by_provider, total_row.p50, total_row.p95, interventions


def _usage(row: Any) -> ProviderUsage:
    return ProviderUsage(
        provider=row.ai_provider,
        executions=row.executions,
        cost=Decimal(row.cost),
        tokens=int(row.tokens),  # sum(bigint) is numeric in PostgreSQL
    )


async def _per_day(session: AsyncSession, scope: StatsScope) -> list[DailyCount]:
    """One row per UTC day of the window, days without executions included (generate_series
    supplies the days, a left join the counts)."""
    day = cast(func.timezone("UTC", Execution.started_at), Date).label("day")
    counts = (
        select(
            day,
            func.count().label("total"),
            _count_status(ExecutionStatus.SUCCEEDED).label("succeeded"),
            _count_status(ExecutionStatus.FAILED).label("failed"),
        )
        .where(*_in_scope(scope))
        .group_by(day)
        .subquery("counts")
    )
    first_day = scope.since.astimezone(UTC).replace(tzinfo=None)
    last_day = (scope.until - timedelta(microseconds=1)).astimezone(UTC).replace(tzinfo=None)
    days = (
        func.generate_series(
            func.date_trunc("day", literal(first_day, DateTime())),
            literal(last_day, DateTime()),
            literal_column("interval '1 day'"),
        )
        .table_valued("day")
        .render_derived("days")
    )
    calendar_day = cast(days.c.day, Date)
    query = (
        select(
            calendar_day.label("day"),
            func.coalesce(counts.c.total, 0).label("total"),
            func.coalesce(counts.c.succeeded, 0).label("succeeded"),
            func.coalesce(counts.c.failed, 0).label("failed"),
        )
        .select_from(days.outerjoin(counts, counts.c.day == calendar_day))
        .order_by(days.c.day)
    )
    rows = (await session.execute(query)).all()
    return [DailyCount(row.day, row.total, row.succeeded, row.failed) for row in rows]


def _count_status(status: ExecutionStatus) -> ColumnElement[int]:
    return func.count().filter(Execution.status == status)


async def _top_failing_agents(session: AsyncSession, scope: StatsScope) -> list[AgentFailures]:
    """The agents with the most failed executions in scope (at least one), whole agent rows
    joined in the same statement so the type needs no further load."""
    failures = _count_status(ExecutionStatus.FAILED)
    query = (
        select(Agent, failures.label("failures"), func.count().label("executions"))
        .select_from(Execution)
        .join(Agent, Agent.id == Execution.agent_id)
        .where(*_in_scope(scope), Agent.organization_id == scope.organization_id)
        # Grouping by the primary key lets every agent column be selected.
        .group_by(Agent.id)
        .having(failures > 0)
        .order_by(failures.desc(), Agent.name, Agent.id)
        .limit(TOP_FAILING_AGENTS)
    )
    rows = (await session.execute(query)).all()
    return [AgentFailures(row.Agent, row.failures, row.executions) for row in rows]


# --- MongoDB ------------------------------------------------------------------------------

_STEP_FIELDS = ("node_type", "status", "started_at", "duration_ms")


async def node_type_stats(scope: StatsScope) -> list[NodeTypeStats]:
    """Steps per node type that started in the window: count, average duration, and the
    share of finished steps (succeeded or failed) that failed. Every node type is listed."""
    window = {"$gte": scope.since, "$lt": scope.until}
    match: dict[str, Any] = {
        "organization_id": scope.organization_id,
        # Only traces with a step in the window are unwound at all.
        "steps": {"$elemMatch": {"started_at": window}},
    }
    if scope.agent_id is not None:
        match["agent_id"] = scope.agent_id
    if scope.workflow_id is not None:
        match["workflow_id"] = scope.workflow_id  # checked readable by `dashboard_stats`
    else:
        match |= access.documents_visible(scope.readable_ids)
    failed, succeeded = StepStatus.FAILED.value, StepStatus.SUCCEEDED.value
    pipeline: list[dict[str, Any]] = [
        {"$match": match},
        # MongoDB prunes unused fields by itself; SecantusDB carries whole steps (inputs,
        # outputs) through $unwind unless told, measurably slower.
        {"$project": {f"steps.{field}": 1 for field in _STEP_FIELDS} | {"_id": 0}},
        {"$unwind": "$steps"},
        {"$match": {"steps.started_at": window}},
        {
            "$group": {
                "_id": "$steps.node_type",
                "steps": {"$sum": 1},
                # $avg skips steps still running (no duration).
                "average_duration_ms": {"$avg": "$steps.duration_ms"},
                "failed": {"$sum": {"$cond": [{"$eq": ["$steps.status", failed]}, 1, 0]}},
                "finished": {
                    "$sum": {"$cond": [{"$in": ["$steps.status", [failed, succeeded]]}, 1, 0]}
                },
            }
        },
        {
            "$project": {
                "steps": 1,
                "average_duration_ms": 1,
                "failure_rate": {
                    "$cond": [
                        {"$gt": ["$finished", 0]},
                        {"$divide": ["$failed", "$finished"]},
                        None,
                    ]
                },
            }
        },
    ]
    try:
        cursor = await ExecutionTrace.get_pymongo_collection().aggregate(pipeline)
        found = {NodeType(doc["_id"]): doc for doc in await cursor.to_list()}
    except ConnectionFailure:  # unreachable or timed out; anything else is a bug: masked
        raise StoreDownError("MongoDB") from None
    return [
        NodeTypeStats(
            node_type=node_type,
            steps=found[node_type]["steps"] if node_type in found else 0,
            average_duration_ms=found.get(node_type, {}).get("average_duration_ms"),
            failure_rate=found.get(node_type, {}).get("failure_rate"),
        )
        for node_type in NodeType
    ]
