"""A project as `createProject` and `updateProject` receive it, before any check."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import ProjectStatus
from resolvers.drafts import UNSET, Unset


@dataclass(frozen=True, kw_only=True)
class ProjectDraft:
    """A new project: every field, the input's defaults applied; the optional texts may be
    null (none)."""

    name: str
    description: str
    repository_url: str | None
    local_path: str | None
    framework: str | None
    language: str | None


@dataclass(frozen=True, kw_only=True)
class ProjectChanges:
    """Changes to a project: `UNSET` keeps the stored value; `None` clears an optional text
    and is reported for `name`, `description` and `status`. Also the checks' cleaned result."""

    name: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    repository_url: str | Unset | None = UNSET
    local_path: str | Unset | None = UNSET
    framework: str | Unset | None = UNSET
    language: str | Unset | None = UNSET
    status: ProjectStatus | Unset | None = UNSET
