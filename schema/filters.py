"""Filter and ordering inputs. Each turns itself into the validated, GraphQL-free filter of
`resolvers.filters`, naming the offending argument when a value is out of range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, TypeVar

import strawberry

from models import enums
from resolvers import filters
from resolvers.errors import BadInputError
from resolvers.filters import (
    AgentOrderField,
    ExecutionOrderField,
    SortDirection,
    WorkflowOrderField,
)
from resolvers.ids import parse_id
from schema.enums import AgentStatus, ExecutionStatus, WorkflowStatus

# Registered on the `resolvers.filters` enums themselves (`strawberry.enum` returns its
# argument), so that annotations name a class type checkers understand.
strawberry.enum(filters.SortDirection, description="Ascending or descending.")
strawberry.enum(filters.AgentOrderField, description="What agents sort by.")
strawberry.enum(filters.ExecutionOrderField, description="What executions sort by.")
strawberry.enum(filters.WorkflowOrderField, description="What workflows sort by.")


@strawberry.input(
    description="A time window; either end may be left open. Without a time zone, UTC."
)
class DateRangeInput:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Inclusive start."
    )
    to: datetime | None = strawberry.field(default=None, description="Exclusive end.")

    def to_range(self, argument: str) -> filters.DateRange:
        return filters.DateRange(_utc(self.from_, argument), _utc(self.to, argument)).check(
            argument
        )


def _utc(value: datetime | None, argument: str) -> datetime | None:
    # A bound without a time zone is UTC (as in `dashboardStats`); left naive, it could not
    # be compared with an aware one, and PostgreSQL would read it in the session's zone.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00: before year 1 in UTC
        raise BadInputError(argument, "out of the supported range of dates") from None


@strawberry.input(description="A range of whole numbers; either end may be left open.")
class IntRangeInput:
    min: int | None = strawberry.field(default=None, description="Inclusive minimum.")
    max: int | None = strawberry.field(default=None, description="Inclusive maximum.")

    def to_range(self, argument: str) -> filters.IntRange:
        return filters.IntRange(self.min, self.max).check(argument)


def _range(value: DateRangeInput | None, argument: str) -> filters.DateRange:
    return value.to_range(argument) if value is not None else filters.DateRange()


@strawberry.input(description="Which agents to list; all conditions must hold.")
class AgentFilter:
    status: list[AgentStatus] | None = strawberry.field(default=None, description="Any of.")
    category: list[str] | None = strawberry.field(default=None, description="Any of.")
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Owner's id.")
    created: DateRangeInput | None = strawberry.field(
        default=None, description="Created within this window."
    )
    has_flowchart: bool | None = strawberry.field(
        default=None, description="Only agents with (true) or without (false) a flowchart."
    )

    def to_filter(self) -> filters.AgentFilter:
        return filters.AgentFilter(
            statuses=filters.check_values(self.status, "filter.status"),
            categories=filters.check_values(self.category, "filter.category"),
            name_contains=filters.check_text(self.name_contains, "filter.nameContains"),
            owner_id=parse_id(self.owner_id, "User", argument="filter.ownerId")
            if self.owner_id is not None
            else None,
            created=_range(self.created, "filter.created"),
            has_flowchart=self.has_flowchart,
        )


@strawberry.input(description="Which executions to list; all conditions must hold.")
class ExecutionFilter:
    status: list[ExecutionStatus] | None = strawberry.field(default=None, description="Any of.")
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="Of this agent.")
    workflow_id: strawberry.ID | None = strawberry.field(
        default=None, description="Run as part of this workflow."
    )
    started: DateRangeInput | None = strawberry.field(
        default=None, description="Started within this window."
    )
    duration_ms: IntRangeInput | None = strawberry.field(
        default=None, description="Took this long (milliseconds)."
    )
    error_contains: str | None = strawberry.field(
        default=None, description="Failed with an error containing this text."
    )
    started_by: strawberry.ID | None = strawberry.field(
        default=None, description="Started by this user (or an API key of theirs)."
    )

    def to_filter(self) -> filters.ExecutionFilter:
        statuses = filters.check_values(self.status, "filter.status")
        return filters.ExecutionFilter(
            statuses=tuple(enums.ExecutionStatus(s) for s in statuses) if statuses else statuses,
            agent_id=parse_id(self.agent_id, "Agent", argument="filter.agentId")
            if self.agent_id is not None
            else None,
            workflow_id=parse_id(self.workflow_id, "Workflow", argument="filter.workflowId")
            if self.workflow_id is not None
            else None,
            started=_range(self.started, "filter.started"),
            duration_ms=self.duration_ms.to_range("filter.durationMs")
            if self.duration_ms is not None
            else filters.IntRange(),
            error_contains=filters.check_text(self.error_contains, "filter.errorContains"),
            started_by=parse_id(self.started_by, "User", argument="filter.startedBy")
            if self.started_by is not None
            else None,
        )


@strawberry.input(description="Which workflows to list; all conditions must hold.")
class WorkflowFilter:
    status: list[WorkflowStatus] | None = strawberry.field(default=None, description="Any of.")
    tags_any: list[str] | None = strawberry.field(
        default=None, description="Tagged with at least one of these."
    )
    tags_all: list[str] | None = strawberry.field(
        default=None, description="Tagged with all of these."
    )
    category: str | None = strawberry.field(default=None, description="In this category.")
    created_by: strawberry.ID | None = strawberry.field(
        default=None, description="Created by this user."
    )
    text: str | None = strawberry.field(
        default=None, description="Case-insensitive text in the name or description."
    )

    def to_filter(self) -> filters.WorkflowFilter:
        return filters.WorkflowFilter(
            statuses=filters.check_values(self.status, "filter.status"),
            tags_any=filters.check_values(self.tags_any, "filter.tagsAny"),
            tags_all=filters.check_values(self.tags_all, "filter.tagsAll"),
            category=filters.check_text(self.category, "filter.category"),
            created_by=parse_id(self.created_by, "User", argument="filter.createdBy")
            if self.created_by is not None
            else None,
            text=filters.check_text(self.text, "filter.text"),
        )


@strawberry.input(description="How to order agents.")
class AgentOrder:
    field: AgentOrderField = strawberry.field(description="The sort key.")
    direction: SortDirection = strawberry.field(
        default=filters.SortDirection.DESC, description="Default descending."
    )

    def to_ordering(self) -> filters.Ordering[filters.AgentOrderField]:
        return filters.Ordering(filters.AgentOrderField(self.field), self.direction)


@strawberry.input(description="How to order executions.")
class ExecutionOrder:
    field: ExecutionOrderField = strawberry.field(description="The sort key.")
    direction: SortDirection = strawberry.field(
        default=filters.SortDirection.DESC, description="Default descending."
    )

    def to_ordering(self) -> filters.Ordering[filters.ExecutionOrderField]:
        return filters.Ordering(filters.ExecutionOrderField(self.field), self.direction)


@strawberry.input(description="How to order workflows.")
class WorkflowOrder:
    field: WorkflowOrderField = strawberry.field(description="The sort key.")
    direction: SortDirection = strawberry.field(
        default=filters.SortDirection.DESC, description="Default descending."
    )

    def to_ordering(self) -> filters.Ordering[filters.WorkflowOrderField]:
        return filters.Ordering(filters.WorkflowOrderField(self.field), self.direction)


FilterT_co = TypeVar("FilterT_co", covariant=True)
OrderingT_co = TypeVar("OrderingT_co", covariant=True)


class Filters(Protocol[FilterT_co]):
    """A `filter` input: it validates itself into the resolvers' filter."""

    def to_filter(self) -> FilterT_co: ...


class Orders(Protocol[OrderingT_co]):
    """An `orderBy` input: it becomes the resolvers' ordering."""

    def to_ordering(self) -> OrderingT_co: ...


# An absent `filter` or `orderBy` stays `None`: the resolver applies its one default.
def filter_of(value: Filters[FilterT_co] | None) -> FilterT_co | None:
    """The validated filter of a `filter` argument, or `None` when it is not given."""
    return value.to_filter() if value is not None else None


def ordering_of(value: Orders[OrderingT_co] | None) -> OrderingT_co | None:
    """The ordering of an `orderBy` argument, or `None` when it is not given."""
    return value.to_ordering() if value is not None else None
