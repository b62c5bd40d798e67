"""An agent as `createAgent` and `updateAgent` receive it, before any check."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import AgentStatus
from resolvers.drafts import UNSET, Unset


@dataclass(frozen=True, kw_only=True)
class AgentDraft:
    """A new agent: every field, the input's defaults applied (`configuration` absent or
    null is an empty object). `configuration` is any JSON value until it is checked."""

    name: str
    category: str
    description: str
    status: AgentStatus
    configuration: object
    capabilities: list[str]


@dataclass(frozen=True, kw_only=True)
class AgentChanges:
    """Changes to an agent: `UNSET` keeps the stored value, `None` is an explicit null (which
    the checks report). Also the cleaned result of the checks, holding only valid values."""

    name: str | Unset | None = UNSET
    category: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    status: AgentStatus | Unset | None = UNSET
    configuration: object = UNSET
    capabilities: list[str] | Unset | None = UNSET
