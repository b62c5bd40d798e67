"""Typed, validated filters and orderings, independent of GraphQL: `schema/filters.py` turns
the input objects into these, and the list resolvers turn these into bound query terms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from models.enums import AgentStatus, ExecutionStatus, WorkflowStatus
from resolvers.errors import BadInputError

T = TypeVar("T")
FieldT = TypeVar("FieldT")

MAX_FILTER_VALUES = 100
MAX_TEXT_LENGTH = 200


@dataclass(frozen=True)
class DateRange:
    start: datetime | None = None
    end: datetime | None = None

    def check(self, argument: str) -> DateRange:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise BadInputError(argument, "`from` is after `to`")
        return self


@dataclass(frozen=True)
class IntRange:
    minimum: int | None = None
    maximum: int | None = None

    def check(self, argument: str) -> IntRange:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise BadInputError(argument, "`min` is greater than `max`")
        return self


def check_values(values: list[T] | None, argument: str) -> tuple[T, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise BadInputError(argument, f"at most {MAX_FILTER_VALUES} values, got {len(values)}")
    for value in values:
        if isinstance(value, str):
            check_text(value, argument)
    return tuple(values)


def check_text(value: str | None, argument: str) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise BadInputError(argument, f"at most {MAX_TEXT_LENGTH} characters")
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL: the driver would fail the whole query.
        raise BadInputError(argument, "must not contain NUL characters")
    return value


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


class AgentOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    LAST_EXECUTION_AT = "last_execution_at"
    EXECUTION_COUNT = "execution_count"


class ExecutionOrderField(StrEnum):
    STARTED_AT = "started_at"
    DURATION = "duration"
    COST = "cost"
    TOKENS = "tokens"


class WorkflowOrderField(StrEnum):
    UPDATED_AT = "updated_at"
    CREATED_AT = "created_at"
    NAME = "name"


@dataclass(frozen=True)
class Ordering(Generic[FieldT]):
    field: FieldT
    direction: SortDirection

    @property
    def descending(self) -> bool:
        return self.direction is SortDirection.DESC


# What each root connection sorts by when `orderBy` is not given: the one home of these
# defaults (the root fields, the nested connections and the compiled path all read them).
DEFAULT_AGENT_ORDER: Ordering[AgentOrderField] = Ordering(
    AgentOrderField.CREATED_AT, SortDirection.DESC
)
DEFAULT_EXECUTION_ORDER: Ordering[ExecutionOrderField] = Ordering(
    ExecutionOrderField.STARTED_AT, SortDirection.DESC
)
DEFAULT_WORKFLOW_ORDER: Ordering[WorkflowOrderField] = Ordering(
    WorkflowOrderField.UPDATED_AT, SortDirection.DESC
)


@dataclass(frozen=True)
class AgentFilter:
    statuses: tuple[AgentStatus, ...] | None = None
    categories: tuple[str, ...] | None = None
    name_contains: str | None = None
    owner_id: uuid.UUID | None = None
    created: DateRange = field(default_factory=DateRange)
    has_flowchart: bool | None = None


@dataclass(frozen=True)
class ExecutionFilter:
    statuses: tuple[ExecutionStatus, ...] | None = None
    agent_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    started: DateRange = field(default_factory=DateRange)
    duration_ms: IntRange = field(default_factory=IntRange)
    error_contains: str | None = None
    started_by: uuid.UUID | None = None


@dataclass(frozen=True)
class WorkflowFilter:
    statuses: tuple[WorkflowStatus, ...] | None = None
    tags_any: tuple[str, ...] | None = None
    tags_all: tuple[str, ...] | None = None
    category: str | None = None
    created_by: uuid.UUID | None = None
    text: str | None = None
