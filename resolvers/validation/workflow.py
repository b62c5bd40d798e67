"""The fields of a workflow, as `createWorkflow` and `updateWorkflow` receive them.

Inputs arrive as typed drafts (`resolvers.drafts.workflow`); issue paths use their GraphQL
names (`settings.timeoutSeconds`, `permissions.editorIds[2]`). Only the fields given are
checked and returned, so that an update changes exactly those. The graph is checked by
`resolvers.validation.graph`; the users that permissions name, by one SQL query here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy import select

from flowgate.stores.postgres import Postgres
from models.documents import WorkflowContent, WorkflowPermissions, WorkflowSettings
from models.enums import WorkflowStatus
from models.sql import User
from resolvers.drafts import UNSET, Unset, given, graphql_name
from resolvers.drafts.workflow import (
    ContentChanges,
    PermissionsChanges,
    SettingsChanges,
    WorkflowChanges,
    WorkflowDraft,
)
from resolvers.validation import described, values
from resolvers.validation.graph import CheckedGraph
from resolvers.validation.issues import IssueCode, Issues

TAGS_MAX: Final = 30
TAG_MAX: Final = 50
TIMEOUT_SECONDS: Final = (1, 86_400)
MAX_RETRIES: Final = (0, 10)
CONCURRENCY: Final = (1, 100)
CHANNELS_MAX: Final = 20
CHANNEL_MAX: Final = 200
PERMISSION_IDS_MAX: Final = 100
MAX_DOCUMENT_BYTES: Final = 256 * 1024

# Settings attribute -> where it lives in the stored settings.
_SETTINGS_PATHS: Final = {
    "timeout_seconds": ("timeout_seconds",),
    "max_retries": ("max_retries",),
    "concurrency": ("concurrency",),
    "notify_on_failure": ("notifications", "on_failure"),
    "notify_on_success": ("notifications", "on_success"),
    "notification_channels": ("notifications", "channels"),
}
# Permissions draft attribute -> the stored list.
_PERMISSION_LISTS: Final = {
    "owner_ids": "owners",
    "editor_ids": "editors",
    "viewer_ids": "viewers",
}


@dataclass(frozen=True, kw_only=True)
class CheckedPermissions:
    """The permissions given, checked, by the attributes of the stored `WorkflowPermissions`
    (users as ids, not global ids)."""

    owners: list[uuid.UUID] | Unset = UNSET
    editors: list[uuid.UUID] | Unset = UNSET
    viewers: list[uuid.UUID] | Unset = UNSET
    is_public: bool | Unset = UNSET


@dataclass
class CheckedFields:
    """The cleaned values of the fields given (`UNSET` where absent or not valid): `content`
    the fields stored as they are (name, description, status, tags, category); `settings` and
    `permissions` those that change, applied over the stored ones by `changes`.
    `user_references` are the users that permissions name, by path, still to be checked
    (`report_unknown_users`)."""

    content: ContentChanges = field(default_factory=ContentChanges)
    settings: SettingsChanges = field(default_factory=SettingsChanges)
    permissions: CheckedPermissions = field(default_factory=CheckedPermissions)
    user_references: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def shares(self) -> bool:
        """Whether permissions change: that needs the right to share, and reindexing."""
        return bool(given(self.permissions))

    def changes(
        self, stored: WorkflowContent | None, graph: CheckedGraph | None, *, owner: uuid.UUID | None
    ) -> ContentChanges:
        """What to store: `content`, the settings and permissions given applied over `stored`'s,
        and the graph if there is one. A new workflow (`stored` is None) gets every setting
        and permission, from the defaults, with `owner` as its owner unless owners are given."""
        settings: WorkflowSettings | Unset = UNSET
        permissions: WorkflowPermissions | Unset = UNSET
        if stored is None:
            settings = apply_settings(WorkflowSettings(), self.settings)
            permissions = apply_permissions(WorkflowPermissions(), self.permissions)
            if not permissions.owners and owner is not None:
                permissions.owners = [owner]
        else:
            if given(self.settings):
                settings = apply_settings(stored.settings, self.settings)
            if self.shares:
                permissions = apply_permissions(stored.permissions, self.permissions)
        return replace(
            self.content,
            settings=settings,
            permissions=permissions,
            nodes=graph.nodes if graph is not None else UNSET,
            edges=graph.edges if graph is not None else UNSET,
        )


def check_workflow_fields(issues: Issues, draft: WorkflowDraft | WorkflowChanges) -> CheckedFields:
    """Every field the draft gives but `nodes` and `edges` (which the caller checks as a
    graph). Issue paths are the input's names; the checked values are by attribute."""
    checked = CheckedFields()
    content: dict[str, Any] = {}
    for name, value in given(draft).items():
        path = graphql_name(name)
        if name in ("nodes", "edges"):
            continue
        if value is None:
            issues.add(path, IssueCode.REQUIRED, "must not be null; omit it to keep its value")
        elif isinstance(value, SettingsChanges):
            checked.settings = _settings(issues, path, value)
        elif isinstance(value, PermissionsChanges):
            checked.permissions = _permissions(issues, path, value, checked.user_references)
        else:
            cleaned = _CHECKS[name](issues, path, value)
            if cleaned is not None:
                content[name] = cleaned
    checked.content = ContentChanges(**content)
    return checked


def apply_settings(base: WorkflowSettings, changes: SettingsChanges) -> WorkflowSettings:
    """`base` with the settings given replaced."""
    data = base.model_dump()
    for name, value in given(changes).items():
        *parents, leaf = _SETTINGS_PATHS[name]
        target = data
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return WorkflowSettings.model_validate(data)


def apply_permissions(
    base: WorkflowPermissions, changes: CheckedPermissions
) -> WorkflowPermissions:
    """`base` with the permissions given replaced."""
    return base.model_copy(update=given(changes))


async def report_unknown_users(
    issues: Issues,
    postgres: Postgres,
    organization_id: uuid.UUID,
    references: Mapping[str, uuid.UUID],
) -> None:
    """One query for every user the permissions name; each that is not a user of the
    organization is reported at its path (absent and foreign alike, as for agents)."""
    known = await _user_ids(postgres, organization_id, set(references.values()))
    for path, user_id in references.items():
        if user_id not in known:
            issues.add(path, IssueCode.NOT_FOUND, "no user with this id in your organization")


async def _user_ids(
    postgres: Postgres, organization_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    if not user_ids:
        return set()
    query = select(User.id).where(User.organization_id == organization_id, User.id.in_(user_ids))
    async with postgres.session() as session:
        return set((await session.scalars(query)).all())


def _status(issues: Issues, path: str, value: object) -> WorkflowStatus | None:
    try:
        status = WorkflowStatus(str(value))
    except ValueError:
        status = None
    if status is WorkflowStatus.ARCHIVED:
        issues.add(path, IssueCode.INVALID, "must be draft or active; archive with archiveWorkflow")
        return None
    if status is None:
        issues.add(path, IssueCode.INVALID, "must be draft or active")
    return status


def _tags(issues: Issues, path: str, value: object) -> list[str] | None:
    """At most `TAGS_MAX` tags, trimmed, duplicates dropped (the first one stays)."""
    items = values.strings(issues, path, value, max_items=TAGS_MAX, max_length=TAG_MAX)
    return list(dict.fromkeys(items)) if items is not None else None


def _whole_number(issues: Issues, path: str, value: object, bounds: tuple[int, int]) -> int | None:
    low, high = bounds
    # bool is an int to Python, but `true` is no count.
    if isinstance(value, bool) or not isinstance(value, int):
        issues.add(path, IssueCode.INVALID, "must be a whole number")
        return None
    if not low <= value <= high:
        issues.add(
            path, IssueCode.OUT_OF_RANGE, f"must be between {low:,} and {high:,}, got {value:,}"
        )
        return None
    return value


def _flag(issues: Issues, path: str, value: object) -> bool | None:
    if not isinstance(value, bool):
        issues.add(path, IssueCode.INVALID, "must be true or false")
        return None
    return value


def _settings(issues: Issues, path: str, value: SettingsChanges) -> SettingsChanges:
    cleaned: dict[str, Any] = {}
    for name, item in given(value).items():
        item_path = f"{path}.{graphql_name(name)}"
        if item is None:
            issues.add(item_path, IssueCode.REQUIRED, "must not be null; omit it to keep it")
            continue
        checked: object
        if name == "timeout_seconds":
            checked = _whole_number(issues, item_path, item, TIMEOUT_SECONDS)
        elif name == "max_retries":
            checked = _whole_number(issues, item_path, item, MAX_RETRIES)
        elif name == "concurrency":
            checked = _whole_number(issues, item_path, item, CONCURRENCY)
        elif name == "notification_channels":
            channels = values.strings(
                issues, item_path, item, max_items=CHANNELS_MAX, max_length=CHANNEL_MAX
            )
            checked = list(dict.fromkeys(channels)) if channels is not None else None
        else:
            checked = _flag(issues, item_path, item)
        if checked is not None:
            cleaned[name] = checked
    return SettingsChanges(**cleaned)


def _permissions(
    issues: Issues, path: str, value: PermissionsChanges, user_references: dict[str, uuid.UUID]
) -> CheckedPermissions:
    # By the stored attribute (`owner_ids` -> `owners`).
    cleaned: dict[str, Any] = {}
    for name, item in given(value).items():
        item_path = f"{path}.{graphql_name(name)}"
        if item is None:
            issues.add(item_path, IssueCode.REQUIRED, "must not be null; omit it to keep it")
        elif name == "is_public":
            flag = _flag(issues, item_path, item)
            if flag is not None:
                cleaned[name] = flag
        else:
            user_ids = _user_list(issues, item_path, item, user_references)
            if user_ids is not None:
                cleaned[_PERMISSION_LISTS[name]] = user_ids
    return CheckedPermissions(**cleaned)


def _user_list(
    issues: Issues, path: str, value: object, user_references: dict[str, uuid.UUID]
) -> list[uuid.UUID] | None:
    """Global ids of users, duplicates dropped; each is recorded for the one SQL check."""
    if not isinstance(value, list):
        issues.add(path, IssueCode.INVALID, "must be a list of user ids")
        return None
    if len(value) > PERMISSION_IDS_MAX:
        issues.add(
            path,
            IssueCode.TOO_MANY,
            f"must have at most {PERMISSION_IDS_MAX} items, got {len(value)}",
        )
        return None
    user_ids: list[uuid.UUID] = []
    for index, item in enumerate(value):
        user_id = values.global_id(issues, f"{path}[{index}]", item, "User")
        if user_id is not None:
            user_references[f"{path}[{index}]"] = user_id
            user_ids.append(user_id)
    return list(dict.fromkeys(user_ids))


_CHECKS: Final[dict[str, Callable[[Issues, str, object], Any]]] = {
    **described.CHECKS,
    "status": _status,
    "tags": _tags,
}
