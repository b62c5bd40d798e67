"""`usage`: AI calls, tokens and cost over time, counted from the steps and the chat replies
that made them.

Executions: one MongoDB aggregation groups the steps of the window by period and by what the
grouping needs (the provider, the agent, or the execution); one SQL query, when grouping by
MODEL or USER, names the agents' models or the executions' starters. A step counts as one AI
call when it names a provider. Conversations: one SQL statement groups the agent replies
(`resolvers.analytics.chat_usage`, which says what counts). Python folds the groups of both
together (and days into weeks, which keeps the pipeline to stages every MongoDB-wire server
has)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from models.documents import ExecutionTrace
from models.sql import Agent, Execution
from resolvers import access
from resolvers.analytics.chat_usage import replies_by_period
from resolvers.errors import BadInputError

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

DEFAULT_WINDOW: Final = timedelta(days=7)
MAX_WINDOW: Final = timedelta(days=92)
MAX_POINTS: Final = 5000
_GROUPS_PER_REPLY: Final = 100_000


class UsageBucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


class UsageSource(StrEnum):
    EXECUTIONS = "executions"
    CONVERSATIONS = "conversations"


class UsageGroup(StrEnum):
    PROVIDER = "provider"
    MODEL = "model"
    USER = "user"
    AGENT = "agent"


@dataclass(frozen=True)
class UsagePoint:
    period: datetime
    key: Any  # a provider or model name, or an agent's or user's id; None: unknown
    messages: int  # agent replies in conversations
    calls: int
    tokens: int
    prompt_tokens: int  # of `tokens`, those the steps reported apart
    completion_tokens: int
    cost: float


# What a group sums, in this order: replies, calls, tokens, prompt and completion tokens, cost.
_FIGURES: Final = ("messages", "calls", "tokens", "prompt_tokens", "completion_tokens", "cost")
_STEP_FIGURES: Final = _FIGURES[1:]  # steps are no messages
Sums = tuple[float, ...]


_FORMATS = {UsageBucket.HOUR: "%Y-%m-%dT%H:00:00Z", UsageBucket.DAY: "%Y-%m-%dT00:00:00Z"}
# What MongoDB groups by, per grouping: the value itself, or an id SQL turns into it.
_MONGO_KEY = {
    UsageGroup.PROVIDER: "$steps.ai_provider",
    UsageGroup.MODEL: "$agent_id",
    UsageGroup.AGENT: "$agent_id",
    UsageGroup.USER: "$execution_id",
}


def window_of(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = _aware(until) if until is not None else datetime.now(UTC)
    try:
        since = _aware(since) if since is not None else until - DEFAULT_WINDOW
    except OverflowError:  # an `until` near year 1 leaves no room for the default window
        raise BadInputError("until", "is too early for the default window") from None
    if since >= until:
        raise BadInputError("since", "must be before `until`")
    if until - since > MAX_WINDOW:
        raise BadInputError("since", f"the window may span at most {MAX_WINDOW.days} days")
    return since, until


async def usage(
    info: Info[Context],
    *,
    since: datetime | None,
    until: datetime | None,
    bucket: UsageBucket,
    group_by: UsageGroup,
    sources: list[UsageSource] | None = None,
) -> list[UsagePoint]:
    start, end = window_of(since, until)
    chosen = set(UsageSource) if sources is None else set(sources)
    if not chosen:
        raise BadInputError("sources", "name at least one source, or leave it out for both")
    folded: dict[tuple[datetime, Any], Sums] = {}
    if UsageSource.EXECUTIONS in chosen:
        organization_id = info.context.principal.organization_id
        # Steps of executions of workflows the principal may not read are not counted.
        readable = await info.context.loaders.readable_workflow_ids.get()
        visible = access.documents_visible(readable)
        steps = await _steps_by_period(organization_id, visible, start, end, bucket, group_by)
        names = await _names(info, organization_id, group_by, {key for _, key in steps})
        _fold(folded, steps, bucket, names)
    if UsageSource.CONVERSATIONS in chosen:
        unit = "hour" if bucket is UsageBucket.HOUR else "day"
        chats = await replies_by_period(info, start, end, unit, group_by.value)
        _fold(folded, chats, bucket, lambda key: key)
    points = [
        UsagePoint(
            period,
            key,
            int(messages),
            int(calls),
            int(tokens),
            int(prompt),
            int(completion),
            round(cost, 6),
        )
        for (period, key), (messages, calls, tokens, prompt, completion, cost) in folded.items()
    ]
    points.sort(key=lambda p: (p.period, str(p.key) if p.key is not None else ""))
    if len(points) > MAX_POINTS:
        raise BadInputError("bucket", f"more than {MAX_POINTS} points: a shorter window or a "
                            "coarser bucket")  # fmt: skip
    return points


def _fold(
    folded: dict[tuple[datetime, Any], Sums],
    groups: dict[tuple[datetime, Any], Sums],
    bucket: UsageBucket,
    names: Callable[[Any], Any],
) -> None:
    """Add `groups` (hours or days, keyed as their store groups) into `folded`, by the
    bucket's period and the point's key: two executions of one user, or a step and a reply
    of one provider, fall into one point."""
    for (start_of, key), sums in groups.items():
        # weeks start on Monday, in UTC
        period = start_of - timedelta(days=start_of.weekday() if bucket is UsageBucket.WEEK else 0)
        before = folded.get((period, names(key)), (0,) * len(_FIGURES))
        folded[(period, names(key))] = tuple(a + b for a, b in zip(before, sums, strict=True))


async def _steps_by_period(
    organization_id: uuid.UUID,
    visible: dict[str, Any],
    since: datetime,
    until: datetime,
    bucket: UsageBucket,
    group_by: UsageGroup,
) -> dict[tuple[datetime, Any], Sums]:
    window = {"$gte": since, "$lt": until}
    day_format = _FORMATS[UsageBucket.HOUR if bucket is UsageBucket.HOUR else UsageBucket.DAY]
    pipeline: list[dict[str, Any]] = [
        {"$match": {"organization_id": organization_id, **visible,
                    "steps": {"$elemMatch": {"started_at": window}}}},
        {"$project": {"_id": 0, "agent_id": 1, "execution_id": 1, "steps.started_at": 1,
                      "steps.ai_provider": 1, "steps.tokens": 1, "steps.prompt_tokens": 1,
                      "steps.completion_tokens": 1, "steps.cost": 1}},
        {"$unwind": "$steps"},
        {"$match": {"steps.started_at": window, "steps.ai_provider": {"$ne": None}}},
        {"$group": {
            "_id": {"period": {"$dateToString": {"format": day_format,
                                                 "date": "$steps.started_at"}},
                    "key": _MONGO_KEY[group_by]},
            "calls": {"$sum": 1},
            # `$sum` skips nulls: a step that gave only its total adds to neither part.
            **{name: {"$sum": f"$steps.{name}"} for name in _STEP_FIGURES[1:]},
        }},
    ]  # fmt: skip
    # All groups in the first reply: the server's default first batch is 101 documents, and
    # each `getMore` after it would be a round trip that grows with the data.
    cursor = await ExecutionTrace.get_pymongo_collection().aggregate(
        pipeline, batchSize=_GROUPS_PER_REPLY
    )
    found: dict[tuple[datetime, Any], Sums] = {}
    async for group in cursor:
        period = datetime.strptime(group["_id"]["period"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        figures = (
            float(group[name] or 0) if name == "cost" else int(group[name] or 0)
            for name in _STEP_FIGURES
        )
        found[(period, group["_id"].get("key"))] = (0, *figures)
    return found


async def _names(
    info: Info[Context], organization_id: uuid.UUID, group_by: UsageGroup, keys: set[Any]
) -> Any:
    """How a MongoDB group key becomes the point's key (one SQL query when it takes one)."""
    if group_by in {UsageGroup.PROVIDER, UsageGroup.AGENT} or not keys:
        return lambda key: key
    ids = [key for key in keys if key is not None]
    if group_by is UsageGroup.MODEL:
        query: Any = select(Agent.id, Agent.configuration["model"].astext).where(
            Agent.organization_id == organization_id, Agent.id.in_(ids)
        )
    else:
        query = select(Execution.id, Execution.started_by_id).where(
            Execution.organization_id == organization_id, Execution.id.in_(ids)
        )
    async with info.context.services.postgres.session() as session:
        mapping = {key: value for key, value in (await session.execute(query)).all()}
    return mapping.get


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
