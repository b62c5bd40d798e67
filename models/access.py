"""Who may read, run, change and share a workflow: the rule, as data, and every form derived
from it.

The rule is `WORKFLOW_RULES`: for each action, the roles it is granted to (admins always, to
every workflow of their organization) and what in the workflow grants it: being named in
one of its relations (owners, editors, viewers, its creator) or the workflow being public.
Nothing else restates it: the Python predicate (`allows`), the MongoDB filter
(`mongo_filter`) and a search document's readers (`readers`) are computed from it here, and
the SQL predicate on executions and the subscription filter (`resolvers.access`) from the
ids the MongoDB filter selects.

It lives with the models because the search indexer (an adapter, below the resolvers) needs
a workflow's readers too; it knows persistence (field paths), not GraphQL or requests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

from models.documents import Workflow
from models.enums import UserRole


class Subject(Protocol):
    """Who asks: `flowgate.principal.Principal` is one."""

    @property
    def organization_id(self) -> uuid.UUID: ...

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def role(self) -> UserRole: ...


class Action(StrEnum):
    READ = "read"
    RUN = "run"
    CHANGE = "change"
    SHARE = "share"  # change who may do what (the workflow's permissions)


class Relation(StrEnum):
    """How a workflow names a user; the value is the field path in the stored document."""

    OWNER = "permissions.owners"
    EDITOR = "permissions.editors"
    VIEWER = "permissions.viewers"
    CREATOR = "created_by"


@dataclass(frozen=True)
class Grant:
    """Who, besides admins, may do an action: a principal of one of `roles` whom the workflow
    names in one of `relations`, or, if `public`, any principal of those roles when the
    workflow is public."""

    roles: frozenset[UserRole]
    relations: frozenset[Relation]
    public: bool


# Admins do everything to every workflow of their organization.
UNRESTRICTED: Final = frozenset({UserRole.ADMIN})
_MEMBERS: Final = frozenset({UserRole.USER, UserRole.VIEWER})
_WRITERS: Final = frozenset({UserRole.USER})
_EVERY_RELATION: Final = frozenset(Relation)

WORKFLOW_RULES: Final[Mapping[Action, Grant]] = {
    Action.READ: Grant(_MEMBERS, _EVERY_RELATION, public=True),
    Action.RUN: Grant(_WRITERS, _EVERY_RELATION - {Relation.VIEWER}, public=True),
    Action.CHANGE: Grant(_WRITERS, _EVERY_RELATION - {Relation.VIEWER}, public=False),
    Action.SHARE: Grant(_WRITERS, frozenset({Relation.OWNER, Relation.CREATOR}), public=False),
}


def unrestricted(subject: Subject) -> bool:
    """Whether every workflow of the organization is the subject's to do anything to."""
    return subject.role in UNRESTRICTED


def named(workflow: Workflow, relation: Relation) -> tuple[uuid.UUID, ...]:
    """The users `workflow` names in `relation`."""
    permissions = workflow.permissions
    match relation:
        case Relation.OWNER:
            return tuple(permissions.owners)
        case Relation.EDITOR:
            return tuple(permissions.editors)
        case Relation.VIEWER:
            return tuple(permissions.viewers)
        case Relation.CREATOR:
            return (workflow.created_by,) if workflow.created_by is not None else ()


def allows(subject: Subject, action: Action, workflow: Workflow) -> bool:
    """The rule as a Python predicate over a loaded workflow."""
    if workflow.organization_id != subject.organization_id:
        return False
    if unrestricted(subject):
        return True
    grant = WORKFLOW_RULES[action]
    if subject.role not in grant.roles:
        return False
    if grant.public and workflow.permissions.is_public:
        return True
    return any(subject.user_id in named(workflow, relation) for relation in grant.relations)


def mongo_filter(subject: Subject, action: Action) -> dict[str, Any]:
    """The rule as a MongoDB filter selecting the workflows `subject` may do `action` to
    (its organization's only)."""
    query: dict[str, Any] = {"organization_id": subject.organization_id}
    if unrestricted(subject):
        return query
    grant = WORKFLOW_RULES[action]
    if subject.role not in grant.roles:
        query["_id"] = {"$in": []}  # nothing
        return query
    terms: list[dict[str, Any]] = [{"permissions.is_public": True}] if grant.public else []
    # Sorted: the same filter text for the same rule, whatever the set's iteration order.
    terms += [{relation.value: subject.user_id} for relation in sorted(grant.relations)]
    query["$or"] = terms
    return query


def readers(workflow: Workflow, action: Action = Action.READ) -> tuple[uuid.UUID, ...] | None:
    """Who may do `action` to the workflow, as a search document's readers: user ids (the
    index filter admits admins on their own), or `None` for the whole organization."""
    grant = WORKFLOW_RULES[action]
    # An index filters by user id only, so it can express the rule only if every role that
    # is not unrestricted is granted alike; `tests/test_access_matrix.py` holds READ to that.
    if grant.roles | UNRESTRICTED != frozenset(UserRole):
        raise ValueError(f"{action}: not every role is granted alike; readers cannot say it")
    if grant.public and workflow.permissions.is_public:
        return None
    found = [user for relation in sorted(grant.relations) for user in named(workflow, relation)]
    return tuple(dict.fromkeys(found))


def execution_readers(
    workflow_id: uuid.UUID | None, workflow: Workflow | None
) -> tuple[uuid.UUID, ...] | None:
    """An execution's (and its events') search readers: its workflow's, as `readers` says;
    the whole organization for one of no workflow; admins only when the workflow is gone."""
    if workflow_id is None:
        return None
    return readers(workflow) if workflow is not None else ()
