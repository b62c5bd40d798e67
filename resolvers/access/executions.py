"""Executions: whoever may read an execution's workflow reads the execution (one of no
workflow, every member); who may drive one (report its steps, finish or cancel it).

The readable workflows' ids are what every set-wise form takes: the SQL predicate on
executions (`execution_visible`), the live-updates filter and the per-object check. They are
asked of MongoDB once per request (`resolvers.loaders.ReadableWorkflowIds`), never for an
admin, whose answer is `None`: unrestricted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BindParameter, ColumnElement, Uuid, and_, any_, bindparam, or_
from sqlalchemy.dialects import postgresql

from flowgate.principal import Principal
from flowgate.search.base import Reader
from flowgate.stores.mongo import Mongo
from flowgate.stores.uuids import UUIDS_AS_BINARY, encoded, uuid_binaries, uuid_text
from models import access as rules
from models.access import Action
from models.documents import Workflow
from models.enums import UserRole
from models.sql import Execution
from resolvers.access.workflows import (
    is_admin,
    may_read_workflow,
    readable_workflows,
)

# The readable workflows' ids, bound when a statement runs: one array, so that the
# statement's text is the same whatever their number (an `IN` list expanded at run time was
# compiled again for every request of a member, and a new text to PostgreSQL for every
# count of ids; issue 16).
READABLE_IDS: Final[BindParameter[Any]] = bindparam(
    "readable_workflow_ids", type_=postgresql.ARRAY(Uuid)
)


class ExecutionRelation(StrEnum):
    STARTER = "starter"  # the user whose credential started it
    AGENT_OWNER = "agent_owner"  # the owner of the agent it runs


@dataclass(frozen=True)
class DriveGrant:
    """Who, besides admins, may drive an execution of no workflow: a principal of one of
    `roles` who stands in one of `relations` to it."""

    roles: frozenset[UserRole]
    relations: frozenset[ExecutionRelation]


DRIVERS_WITHOUT_WORKFLOW: Final = DriveGrant(
    frozenset({UserRole.USER}), frozenset(ExecutionRelation)
)


async def readable_workflow_ids(mongo: Mongo, principal: Principal) -> frozenset[str] | None:
    """The ids (as text) of the workflows `principal` may read; `None`: every workflow."""
    if is_admin(principal):
        return None
    collection = mongo.database[Workflow.get_collection_name()]
    # `distinct` as one command, its ids read as bytes and written as text directly: through
    # `uuid.UUID` they were most of a member's request outside pymongo (issue 16), and the
    # cost grows with the workflows a member reads.
    reply = await mongo.database.command(
        {
            "distinct": collection.name,
            "key": "_id",
            "query": encoded(readable_workflows(principal), collection.codec_options),
        },
        codec_options=UUIDS_AS_BINARY,
    )
    return frozenset(text for text in map(uuid_text, reply["values"]) if text is not None)


def execution_visible(
    principal: Principal, readable_ids: frozenset[str] | BindParameter[Any] | None
) -> ColumnElement[bool]:
    """The executions `principal` may read, as an SQL predicate: its organization's, of no
    workflow or of one of `readable_ids` (from `readable_workflow_ids`). The ids may be a
    bind parameter (`READABLE_IDS`), bound when the statement runs
    (`readable_ids_parameter`): a cached statement then serves every set of ids."""
    in_organization = Execution.organization_id == principal.organization_id
    if readable_ids is None:
        return in_organization
    return and_(in_organization, of_readable_workflows(readable_ids))


def of_readable_workflows(
    readable_ids: frozenset[str] | BindParameter[Any],
) -> ColumnElement[bool]:
    """The workflow part of `execution_visible`, for statements scoped to the organization
    by other terms (the dashboard's figures)."""
    ids = (
        readable_ids
        if isinstance(readable_ids, BindParameter)
        else bindparam(None, readable_ids_parameter(readable_ids), READABLE_IDS.type)
    )
    return or_(Execution.workflow_id.is_(None), Execution.workflow_id == any_(ids))


def documents_visible(readable_ids: frozenset[str] | None) -> dict[str, Any]:
    """`execution_visible` as a MongoDB filter on documents of executions that carry their
    `workflow_id` (traces, events); the organization is the caller's own term."""
    if readable_ids is None:
        return {}
    return {"workflow_id": {"$in": [None, *uuid_binaries(readable_ids)]}}


def readable_ids_parameter(readable_ids: frozenset[str]) -> list[str]:
    """The value `execution_visible` compares workflow ids with, for `readable_ids`: their
    text, which asyncpg reads as UUIDs in C, in a fixed order (text sorts as UUIDs do)."""
    return sorted(readable_ids)


def may_read_execution(
    principal: Principal, execution: Execution, readable_ids: frozenset[str] | None
) -> bool:
    """`execution_visible` as a Python predicate over a loaded row."""
    return execution.organization_id == principal.organization_id and of_readable_workflow(
        execution.workflow_id, readable_ids
    )


def of_readable_workflow(workflow_id: object, readable_ids: frozenset[str] | None) -> bool:
    """The workflow part of `execution_visible` in Python, for a workflow id as a row or a
    bus message carries it: no workflow, or a readable one."""
    return readable_ids is None or workflow_id is None or str(workflow_id) in readable_ids


def may_drive_execution(
    principal: Principal,
    execution: Execution,
    *,
    agent_owner_id: uuid.UUID | None,
    workflow: Workflow | None,
    action: Action = Action.RUN,
) -> bool:
    """Whether `principal` may report steps of, finish or cancel `execution` (`action` RUN)
    or pause and resume it as an operator (CHANGE). `workflow` is the execution's (`None` if
    it has none or it is gone); the caller has already answered "not found" where
    `may_read_workflow` says no. Without a workflow, both take the same standing
    (`DRIVERS_WITHOUT_WORKFLOW`)."""
    if execution.organization_id != principal.organization_id:
        return False
    if is_admin(principal):
        return True
    if execution.workflow_id is not None:
        return (
            workflow is not None
            and may_read_workflow(principal, workflow)
            and rules.allows(principal, action, workflow)
        )
    grant = DRIVERS_WITHOUT_WORKFLOW
    if principal.role not in grant.roles:
        return False
    standing = {
        ExecutionRelation.STARTER: execution.started_by_id,
        ExecutionRelation.AGENT_OWNER: agent_owner_id,
    }
    return any(standing[relation] == principal.user_id for relation in grant.relations)


def search_reader(principal: Principal) -> Reader:
    """Whose search it is: restricted documents (those with readers) only if the principal
    is among their readers, unless the rule leaves it unrestricted."""
    return Reader(
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        everything=is_admin(principal),
    )
