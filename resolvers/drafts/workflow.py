"""A workflow as `createWorkflow` and `updateWorkflow` receive it, before any check, and
its content as every change stores it, after the checks (`ContentChanges`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.documents import Connection, FlowNode, WorkflowPermissions, WorkflowSettings
from models.enums import WorkflowStatus
from resolvers.drafts import UNSET, Unset, given
from resolvers.validation.graph import EdgeDraft, NodeDraft


@dataclass(frozen=True, kw_only=True)
class SettingsChanges:
    """Run limits and notifications: only the fields given change (on creation, from the
    defaults). `None` is an explicit null, which the checks report."""

    timeout_seconds: int | Unset | None = UNSET
    max_retries: int | Unset | None = UNSET
    concurrency: int | Unset | None = UNSET
    notify_on_failure: bool | Unset | None = UNSET
    notify_on_success: bool | Unset | None = UNSET
    notification_channels: list[str] | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class PermissionsChanges:
    """Who may read, edit and run: only the fields given change. Users are global ids."""

    owner_ids: Sequence[str] | Unset | None = UNSET
    editor_ids: Sequence[str] | Unset | None = UNSET
    viewer_ids: Sequence[str] | Unset | None = UNSET
    is_public: bool | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class WorkflowDraft:
    """A new workflow: every field, the input's defaults applied; settings and permissions
    may be omitted (defaults) or null (reported)."""

    name: str
    description: str
    status: WorkflowStatus
    nodes: list[NodeDraft]
    edges: list[EdgeDraft]
    tags: list[str]
    category: str
    settings: SettingsChanges | Unset | None = UNSET
    permissions: PermissionsChanges | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class WorkflowChanges:
    """Changes to a workflow: `UNSET` keeps the stored value, `None` is an explicit null
    (reported). Nodes and edges form one graph: the one not given is checked as stored."""

    name: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    status: WorkflowStatus | Unset | None = UNSET
    nodes: list[NodeDraft] | Unset | None = UNSET
    edges: list[EdgeDraft] | Unset | None = UNSET
    tags: list[str] | Unset | None = UNSET
    category: str | Unset | None = UNSET
    settings: SettingsChanges | Unset | None = UNSET
    permissions: PermissionsChanges | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class ContentChanges:
    """Checked content, one attribute per field of the content base
    (`models.documents.WorkflowContent`, held to it by `tests/test_drafts.py`): what creating,
    updating, archiving or restoring a workflow stores. `UNSET` keeps the stored value."""

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    status: WorkflowStatus | Unset = UNSET
    nodes: list[FlowNode] | Unset = UNSET
    edges: list[Connection] | Unset = UNSET
    tags: list[str] | Unset = UNSET
    category: str | Unset = UNSET
    settings: WorkflowSettings | Unset = UNSET
    permissions: WorkflowPermissions | Unset = UNSET

    def stored(self) -> dict[str, Any]:
        """The values given, by field name: a new workflow's content or the `$set` of a
        change. The one place a workflow's checked content becomes what MongoDB keeps."""
        return given(self)
