"""`dashboardStats`: execution figures over a time window, for dashboards and analysts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from resolvers import stats
from resolvers.analytics import chat_stats
from resolvers.context import Context
from schema.agent import Agent
from schema.chat_stats import DashboardChats
from schema.enums import ExecutionStatus, NodeType


@strawberry.type(description="How many executions in the window are in one status.")
class StatusCount:
    status: ExecutionStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Executions in this status.")


@strawberry.type(description="What one AI provider was used for in the window.")
class ProviderUsage:
    provider: str | None = strawberry.field(
        description="The provider (openai, anthropic, ...); null for executions without one."
    )
    executions: int = strawberry.field(description="Executions that used this provider.")
    cost: float = strawberry.field(description="Their summed cost, in US dollars.")
    # Float, as everywhere in the schema for token sums: GraphQL `Int` is 32-bit, and a busy
    # organization passes 2^31 tokens within weeks (a Float is exact up to 2^53).
    tokens: float = strawberry.field(description="Their summed tokens (a Float: exceeds Int).")


@strawberry.type(description="Executions started on one UTC calendar day.")
class DailyCount:
    day: date = strawberry.field(description="The day (UTC).")
    total: int = strawberry.field(description="Executions started that day, in any status.")
    succeeded: int = strawberry.field(description="Of those, how many succeeded.")
    failed: int = strawberry.field(description="Of those, how many failed.")


@strawberry.type(description="An agent and how often it failed in the window.")
class AgentFailures:
    agent: Agent = strawberry.field(description="The agent (deleted agents included).")
    failures: int = strawberry.field(description="Its failed executions.")
    executions: int = strawberry.field(description="All its executions, in any status.")


@strawberry.type(description="Steps of one node type that started in the window (MongoDB).")
class NodeTypeStats:
    node_type: NodeType = strawberry.field(description="The node type.")
    steps: int = strawberry.field(description="Steps of this type, in any status.")
    average_duration_ms: float | None = strawberry.field(
        description="Mean duration of the steps that have one; null when none has."
    )
    failure_rate: float | None = strawberry.field(
        description="Failed steps over finished (succeeded or failed) ones, 0 to 1; null when "
        "none finished."
    )


async def _node_types(root: DashboardStats) -> list[NodeTypeStats] | None:
    return [
        NodeTypeStats(
            node_type=row.node_type,
            steps=row.steps,
            average_duration_ms=row.average_duration_ms,
            failure_rate=row.failure_rate,
        )
        for row in await stats.node_type_stats(root.scope)
    ]


async def _chats(root: DashboardStats, info: strawberry.Info[Context]) -> DashboardChats:
    return DashboardChats.from_figures(await chat_stats.chat_figures(info, root.scope))


@strawberry.type(
    description="Execution and chat figures of your organization over [since, until), "
    "optionally for one agent or workflow."
)
class DashboardStats:
    scope: strawberry.Private[stats.StatsScope]
    since: datetime = strawberry.field(description="Start of the window (inclusive).")
    until: datetime = strawberry.field(description="End of the window (exclusive).")
    total_executions: int = strawberry.field(description="Executions started in the window.")
    by_status: list[StatusCount] = strawberry.field(
        description="Those executions per current status; every status is listed."
    )
    success_rate: float | None = strawberry.field(
        description="Succeeded over finished (succeeded, failed or cancelled), 0 to 1; null "
        "when none finished."
    )
    duration_p50_ms: float | None = strawberry.field(
        description="Median duration in milliseconds of the executions that have one; null "
        "when none has."
    )
    duration_p95_ms: float | None = strawberry.field(
        description="95th-percentile duration in milliseconds (interpolated); null when "
        "none has one."
    )
    total_cost: float = strawberry.field(description="Summed cost, in US dollars.")
    total_tokens: float = strawberry.field(description="Summed tokens (a Float: exceeds Int).")
    human_interventions: int = strawberry.field(
        description="Times people stepped into these executions: approval decisions, "
        "operator pauses and resumes."
    )
    by_provider: list[ProviderUsage] = strawberry.field(
        description="Executions, cost and tokens per AI provider, most used first."
    )
    per_day: list[DailyCount] = strawberry.field(
        description="Executions per UTC day, oldest first; every day of the window is listed, "
        "days without executions as zeros."
    )
    top_failing_agents: list[AgentFailures] = strawberry.field(
        description=f"Up to {stats.TOP_FAILING_AGENTS} agents with the most failed executions "
        "(at least one), most failures first."
    )
    # Resolved on request only (MongoDB, and the slow part); nullable so that a MongoDB
    # outage leaves an error on this path and the SQL figures still arrive.
    by_node_type: list[NodeTypeStats] | None = strawberry.field(
        resolver=_node_types,
        description="Per flowchart node type, the steps that started in the window (from "
        "the execution traces); every node type is listed. Null, with an error, when MongoDB "
        "is unavailable.",
    )
    # Resolved on request only: one more SQL statement, for clients that show chats.
    chats: DashboardChats = strawberry.field(
        resolver=_chats,
        description="Messages, agents' replies, AI calls, tokens and cost of the window's "
        "chats, in all, per model and provider, and per day.",
    )

    @classmethod
    def from_data(cls, data: stats.DashboardStatsData) -> DashboardStats:
        return cls(
            scope=data.scope,
            since=data.scope.since,
            until=data.scope.until,
            total_executions=data.total_executions,
            by_status=[StatusCount(status=row.status, count=row.count) for row in data.by_status],
            success_rate=data.success_rate,
            duration_p50_ms=data.duration_p50_ms,
            duration_p95_ms=data.duration_p95_ms,
            total_cost=float(data.total_cost),
            total_tokens=float(data.total_tokens),
            human_interventions=data.human_interventions,
            by_provider=[
                ProviderUsage(
                    provider=row.provider,
                    executions=row.executions,
                    cost=float(row.cost),
                    tokens=float(row.tokens),
                )
                for row in data.by_provider
            ],
            per_day=[
                DailyCount(day=row.day, total=row.total, succeeded=row.succeeded, failed=row.failed)
                for row in data.per_day
            ],
            top_failing_agents=[
                AgentFailures(
                    agent=Agent.from_model(row.agent),
                    failures=row.failures,
                    executions=row.executions,
                )
                for row in data.top_failing_agents
            ],
        )


async def resolve_dashboard_stats(
    info: strawberry.Info[Context],
    since: Annotated[
        datetime | None,
        strawberry.argument(
            description="Start of the window (inclusive); default 30 days before `until`. "
            "Without a time zone, UTC."
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        strawberry.argument(
            description="End of the window (exclusive); default now. At most "
            f"{stats.MAX_WINDOW.days} days after `since`. Without a time zone, UTC."
        ),
    ] = None,
    agent_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            name="agentId",
            description="Only this agent's executions (and conversations, for `chats`).",
        ),
    ] = None,
    workflow_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            name="workflowId",
            description="Only this workflow's executions (`chats` then counts none: "
            "conversations belong to no workflow).",
        ),
    ] = None,
) -> DashboardStats:
    data = await stats.dashboard_stats(
        info, since=since, until=until, agent_id=agent_id, workflow_id=workflow_id
    )
    return DashboardStats.from_data(data)
