"""Figures for analysts: `executionAggregate` and `usage` (its types: `schema.usage`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.analytics import aggregate, usage
from resolvers.analytics.aggregate import AggregateOrderField, AggregateRow, GroupKey
from resolvers.analytics.usage import UsageBucket, UsageGroup, UsageSource
from resolvers.context import Context
from resolvers.filters import SortDirection
from resolvers.ids import to_global_id
from schema.enums import ExecutionStatus
from schema.filters import ExecutionFilter
from schema.permissions import READERS
from schema.usage import UsagePoint
from schema.user import User

if TYPE_CHECKING:
    from schema.agent import Agent
    from schema.workflow import Workflow

strawberry.enum(
    GroupKey,
    description="What executions are grouped by: an object (AGENT, WORKFLOW, USER who "
    "started it), a value (STATUS, PROVIDER, MODEL and CATEGORY of the agent), or a UTC "
    "period of the start time (HOUR, DAY, WEEK starting Monday, MONTH).",
)
strawberry.enum(
    AggregateOrderField,
    description="What groups sort by: KEY (the group keys), or a figure.",
)


@strawberry.input(description="How groups are ordered.")
class AggregateOrder:
    field: AggregateOrderField = strawberry.field(description="The sort key.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="Default descending."
    )


@strawberry.type(description="What one group has in common; only the grouped keys are set.")
class AggregateKey:
    row: strawberry.Private[AggregateRow]
    status: ExecutionStatus | None = strawberry.field(description="With STATUS.")
    provider: str | None = strawberry.field(description="With PROVIDER; null: no AI provider.")
    model: str | None = strawberry.field(description="With MODEL: the agent's configured model.")
    category: str | None = strawberry.field(description="With CATEGORY: the agent's category.")
    period: datetime | None = strawberry.field(
        description="With HOUR, DAY, WEEK or MONTH: the start of the UTC period."
    )
    agent_id: strawberry.ID | None = strawberry.field(description="With AGENT: its id.")
    workflow_id: strawberry.ID | None = strawberry.field(description="With WORKFLOW: its id.")
    user_id: strawberry.ID | None = strawberry.field(
        description="With USER: the id of who started them."
    )

    @strawberry.field(description="With AGENT: the agent (deleted ones too).")
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        agent_id = self.row.keys.get(GroupKey.AGENT)
        model = await info.context.loaders.agent_by_id.load(agent_id) if agent_id else None
        return Agent.from_model(model) if model is not None else None

    @strawberry.field(description="With WORKFLOW: the workflow, if you may read it.")
    async def workflow(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Workflow, strawberry.lazy("schema.workflow")] | None:
        from schema.workflow import Workflow

        workflow_id = self.row.keys.get(GroupKey.WORKFLOW)
        model = await info.context.loaders.workflow_by_id.load(workflow_id) if workflow_id else None
        return Workflow.from_model(model) if model is not None else None

    @strawberry.field(description="With USER: who started them.")
    async def user(self, info: strawberry.Info[Context]) -> User | None:
        user_id = self.row.keys.get(GroupKey.USER)
        model = (
            await info.context.loaders.execution_starter_by_id.load(user_id) if user_id else None
        )
        return User.from_model(model) if model is not None else None

    @classmethod
    def from_row(cls, row: AggregateRow) -> AggregateKey:
        keys = row.keys

        def global_id(key: GroupKey, type_name: str) -> strawberry.ID | None:
            value = keys.get(key)
            return strawberry.ID(to_global_id(type_name, value)) if value is not None else None

        return cls(
            row=row,
            status=keys.get(GroupKey.STATUS),
            provider=keys.get(GroupKey.PROVIDER),
            model=keys.get(GroupKey.MODEL),
            category=keys.get(GroupKey.CATEGORY),
            period=next((keys[k] for k in aggregate.TIME_KEYS if k in keys), None),
            agent_id=global_id(GroupKey.AGENT, "Agent"),
            workflow_id=global_id(GroupKey.WORKFLOW, "Workflow"),
            user_id=global_id(GroupKey.USER, "User"),
        )


@strawberry.type(description="The figures of one group of executions.")
class AggregateGroup:
    key: AggregateKey = strawberry.field(description="What the group has in common.")
    count: int = strawberry.field(description="Executions in the group.")
    succeeded: int = strawberry.field(description="Of them, succeeded.")
    failed: int = strawberry.field(description="Of them, failed.")
    success_rate: float | None = strawberry.field(
        description="Succeeded over finished (succeeded, failed, cancelled); null if none."
    )
    duration_p50_ms: float | None = strawberry.field(description="Median duration (ms).")
    duration_p95_ms: float | None = strawberry.field(description="95th percentile (ms).")
    duration_p99_ms: float | None = strawberry.field(description="99th percentile (ms).")
    ai_calls: int = strawberry.field(description="AI calls made.")
    total_tokens: int = strawberry.field(description="Tokens used in all.")
    prompt_tokens: int = strawberry.field(
        description="Of them, tokens sent to models, as steps reported them apart (steps that "
        "gave only a total add to neither part)."
    )
    completion_tokens: int = strawberry.field(
        description="Of them, tokens the models produced, as steps reported them apart."
    )
    cost: float = strawberry.field(description="Cost in US dollars.")

    @classmethod
    def from_row(cls, row: AggregateRow) -> AggregateGroup:
        return cls(
            key=AggregateKey.from_row(row),
            count=row.count,
            succeeded=row.succeeded,
            failed=row.failed,
            success_rate=row.success_rate,
            duration_p50_ms=row.duration_p50_ms,
            duration_p95_ms=row.duration_p95_ms,
            duration_p99_ms=row.duration_p99_ms,
            ai_calls=row.ai_calls,
            total_tokens=row.tokens,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            cost=float(row.cost),
        )


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        permission_classes=READERS,
        description="Execution figures per group of one or two keys (`groupBy: [AGENT, DAY]`), "
        "over the executions `filter` selects: counts, success rate, duration percentiles, "
        "AI calls, tokens and cost. Time series read oldest first, other groupings biggest "
        "first, unless `orderBy` says otherwise. At most `first` groups (default 100, at "
        "most 1000), counted like a page by the cost limit. Also as CSV: `/export/aggregate.csv`.",
    )
    async def execution_aggregate(
        self,
        info: strawberry.Info[Context],
        group_by: Annotated[
            list[GroupKey], strawberry.argument(description="One or two keys to group by.")
        ],
        filter: Annotated[
            ExecutionFilter | None, strawberry.argument(description="Which executions.")
        ] = None,
        order_by: Annotated[
            AggregateOrder | None, strawberry.argument(description="How groups are ordered.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many groups (default 100).")
        ] = None,
    ) -> list[AggregateGroup]:
        rows = await aggregate.execution_aggregate(
            info,
            filter_=filter.to_filter() if filter else ExecutionFilter().to_filter(),
            group_by=group_by,
            order=order_by.field if order_by else None,
            direction=order_by.direction if order_by else None,
            first=first,
        )
        return [AggregateGroup.from_row(row) for row in rows]

    @strawberry.field(
        permission_classes=READERS,
        description="AI calls, tokens and cost per period and per provider, model, agent or "
        "user, counted from the execution steps and the chat replies that made them (both "
        "unless `sources` says otherwise), oldest first; a step and a reply of the same "
        "period and key add up in one point. Replies count in the conversations you can "
        "see, deleted conversations included (their spend was incurred); deleted messages do "
        f"not. The window defaults to the last 7 days and spans at most "
        f"{usage.MAX_WINDOW.days}; at most {usage.MAX_POINTS} points. Also as CSV: "
        "`/export/usage.csv`.",
    )
    async def usage(
        self,
        info: strawberry.Info[Context],
        since: Annotated[
            datetime | None, strawberry.argument(description="From (default: 7 days ago).")
        ] = None,
        until: Annotated[
            datetime | None, strawberry.argument(description="Until, exclusive (default: now).")
        ] = None,
        bucket: Annotated[
            UsageBucket, strawberry.argument(description="The length of a period.")
        ] = UsageBucket.DAY,
        group_by: Annotated[
            UsageGroup, strawberry.argument(description="What the points tell apart.")
        ] = UsageGroup.PROVIDER,
        sources: Annotated[
            list[UsageSource] | None,
            strawberry.argument(
                description="Where the usage comes from (default both); an empty list is refused."
            ),
        ] = None,
    ) -> list[UsagePoint]:
        points = await usage.usage(
            info, since=since, until=until, bucket=bucket, group_by=group_by, sources=sources
        )
        return [
            UsagePoint(
                point=p, group=group_by, period=p.period, messages=p.messages, calls=p.calls,
                tokens=p.tokens,
                prompt_tokens=p.prompt_tokens, completion_tokens=p.completion_tokens,
                cost=p.cost,
            )
            for p in points
        ]  # fmt: skip
