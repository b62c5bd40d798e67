"""Creating, changing and archiving workflows. Every change bumps the version, with
optimistic concurrency, and keeps the version it replaced in `workflow_versions`.

A change of version N writes, in this order:
1. the snapshot of version N (a `WorkflowVersion`); a duplicate key means an earlier attempt
   of a change from N wrote it already, and is ignored;
2. the workflow itself, with one `find_one_and_update` filtered on `version: N` that bumps
   it to N + 1: of concurrent changes from N exactly one matches;
3. the audit row in PostgreSQL, once the document write has succeeded (as `saveFlowchart`).

Why a crash (or a lost race) between 1 and 2 is harmless: the workflow is still at version
N, and the extra snapshot is of version N itself. `Workflow.versions` lists only versions
below the current one, so nobody sees it; and since every change bumps the version, the
content of version N never changes, so the snapshot any retry would write is equal to the one
already there. In the other order a crash after 2 would lose version N for good."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from beanie import UpdateResponse
from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from flowgate.search.outbox import mark_executions_stale
from models.documents import Workflow, WorkflowContent, WorkflowVersion
from models.enums import WorkflowStatus
from models.sql.base import utcnow
from resolvers import access, audit
from resolvers.changes import record_document_change
from resolvers.drafts import UNSET
from resolvers.drafts.workflow import ContentChanges, WorkflowChanges, WorkflowDraft
from resolvers.mutations.access import require_workflow
from resolvers.mutations.errors import (
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    VersionConflictError,
)
from resolvers.validation import values
from resolvers.validation.graph import CheckedGraph, EdgeDraft, NodeDraft, check_graph
from resolvers.validation.issues import IssueCode, Issues
from resolvers.validation.references import live_agent_ids, report_missing_agents
from resolvers.validation.workflow import (
    MAX_DOCUMENT_BYTES,
    CheckedFields,
    check_workflow_fields,
    report_unknown_users,
)

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

# What a version is made of: what a snapshot keeps and an audit summary compares.
CONTENT_FIELDS: Final = frozenset(WorkflowContent.model_fields)
# A concurrent change between reading and archiving makes archiving look again, this often.
ARCHIVE_ATTEMPTS: Final = 5


async def create_workflow(info: Info[Context], *, draft: WorkflowDraft) -> Workflow:
    """A new workflow of the principal's organization, at version 1. The principal's user,
    if it has one, is its creator and, unless owners are given, its owner."""
    principal = info.context.principal
    issues = Issues()
    checked = check_workflow_fields(issues, draft)
    graph = _check_graph(issues, draft, stored=None) or CheckedGraph()
    content = checked.changes(None, graph, owner=principal.user_id).stored()
    _check_size(issues, content)
    await _check_references(info, issues, graph, checked)
    if issues:
        raise InvalidInputError(issues)
    now = _now()
    workflow = Workflow(
        organization_id=principal.organization_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
        **content,
    )
    await workflow.insert()
    await record_document_change(
        info.context.services.postgres,
        info.context.actor,
        action="workflow.create",
        object_type="Workflow",
        object_id=workflow.id,
        summary={"version": {"old": 0, "new": 1}, **audit.changes({}, _content(workflow))},
    )
    return workflow


async def update_workflow(
    info: Info[Context], *, workflow_id: str, changes: WorkflowChanges, expected_version: int
) -> Workflow:
    """Change exactly the fields given (nodes and edges are checked as one graph, the one not
    given taken as stored) if the stored version is still `expected_version`."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "id", workflow_id, "Workflow")
    if expected_version < 1:
        issues.add("expectedVersion", IssueCode.OUT_OF_RANGE, "must be 1 or more")
    checked = check_workflow_fields(issues, changes)
    current = await find_workflow(info, local_id, workflow_id) if local_id is not None else None
    if current is not None:
        require_workflow(principal, current, workflow_id, access.may_change_workflow, "change")
        if checked.shares:
            require_workflow(principal, current, workflow_id, access.may_share_workflow, "share")
    graph = _check_graph(issues, changes, stored=current)
    update = checked.changes(current, graph, owner=None) if current is not None else None
    if current is not None and update is not None:
        _check_size(issues, {**_content(current), **update.stored()})
    await _check_references(info, issues, graph, checked)
    if issues or current is None or update is None:
        raise InvalidInputError(issues)
    if current.version != expected_version:
        raise VersionConflictError(expected_version, current.version)
    if current.status is WorkflowStatus.ARCHIVED:
        raise InvalidTransitionError("An archived workflow cannot be changed")
    updated = await replace_workflow(current, update, created_by=principal.user_id)
    await audit_change(info, "workflow.update", current, updated)
    if checked.shares:
        # Its executions are found in search by its readers: reindex them too.
        await mark_executions_stale(info.context.services, updated.organization_id, updated.id)
    return updated


async def archive_workflow(info: Info[Context], *, workflow_id: str) -> Workflow:
    """Set the status to archived, as a new version; archiving twice is an invalid
    transition. Concurrent changes are waited out, not reported: archiving needs no
    `expectedVersion`, since it keeps whatever content the workflow has."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "id", workflow_id, "Workflow")
    if local_id is None:
        raise InvalidInputError(issues)
    attempt = 1
    while True:
        current = await find_workflow(info, local_id, workflow_id)
        require_workflow(principal, current, workflow_id, access.may_change_workflow, "archive")
        if current.status is WorkflowStatus.ARCHIVED:
            raise InvalidTransitionError("The workflow is archived already")
        try:
            archived = await replace_workflow(
                current,
                ContentChanges(status=WorkflowStatus.ARCHIVED),
                created_by=principal.user_id,
            )
        except VersionConflictError:
            # Changed since read: look again, unless it keeps changing under us.
            if attempt == ARCHIVE_ATTEMPTS:
                raise
            attempt += 1
            continue
        await audit_change(info, "workflow.archive", current, archived)
        return archived


async def find_workflow(info: Info[Context], local_id: uuid.UUID, global_id: str) -> Workflow:
    workflow = await Workflow.find_one(
        {"_id": local_id, "organization_id": info.context.principal.organization_id}
    )
    if workflow is None:
        raise NotFoundError("Workflow", global_id)
    return workflow


async def replace_workflow(
    current: Workflow, changes: ContentChanges, *, created_by: uuid.UUID | None
) -> Workflow:
    """Apply `changes` as version `current.version + 1`, keeping `current` as a snapshot.
    The order of the two writes is explained at the top of this module."""
    # A duplicate was written by an earlier attempt from the same version: equal content.
    with contextlib.suppress(DuplicateKeyError):
        await WorkflowVersion.of(current, created_by=created_by).insert()
    updated = await Workflow.find_one(
        {"_id": current.id, "organization_id": current.organization_id, "version": current.version}
    ).update(
        {"$set": {**changes.stored(), "updated_at": _now()}, "$inc": {"version": 1}},
        response_type=UpdateResponse.NEW_DOCUMENT,
    )
    if not isinstance(updated, Workflow):  # None: another change from this version won
        stored = await Workflow.find_one({"_id": current.id})
        raise VersionConflictError(current.version, stored.version if stored else 0)
    return updated


def _check_graph(
    issues: Issues, draft: WorkflowDraft | WorkflowChanges, *, stored: Workflow | None
) -> CheckedGraph | None:
    """The new graph, or `None` when neither nodes nor edges are given (on update: they stay).
    Nodes and edges are one graph: the side not given is checked as stored, so that an edge
    left without its node is reported (at its stored index)."""
    nodes, edges = draft.nodes, draft.edges
    if nodes is UNSET and edges is UNSET:
        return CheckedGraph() if stored is None else None
    for name, value in (("nodes", nodes), ("edges", edges)):
        if value is None:
            issues.add(name, IssueCode.REQUIRED, "must be a list; omit it to keep it")
    if not isinstance(nodes, list):
        nodes = _stored_nodes(stored)
    if not isinstance(edges, list):
        edges = _stored_edges(stored)
    return check_graph(issues, nodes, edges, nodes_path="nodes", edges_path="edges")


def _stored_nodes(stored: Workflow | None) -> list[NodeDraft]:
    return [
        NodeDraft(node.id, node.type, node.label, node.position.x, node.position.y, node.data)
        for node in (stored.nodes if stored else [])
    ]


def _stored_edges(stored: Workflow | None) -> list[EdgeDraft]:
    return [
        EdgeDraft(edge.source, edge.target, edge.condition, edge.id)
        for edge in (stored.edges if stored else [])
    ]


async def _check_references(
    info: Info[Context], issues: Issues, graph: CheckedGraph | None, checked: CheckedFields
) -> None:
    """The agents the nodes call and the users the permissions name: one query each."""
    postgres = info.context.services.postgres
    organization_id = info.context.principal.organization_id
    if graph is not None and graph.agent_references:
        live = await live_agent_ids(postgres, organization_id, set(graph.agent_references.values()))
        report_missing_agents(issues, graph.agent_references, live)
    if checked.user_references:
        await report_unknown_users(issues, postgres, organization_id, checked.user_references)


def _check_size(issues: Issues, content: Mapping[str, Any]) -> None:
    # Measured on what would be stored (the elements that passed their own checks).
    document = {name: _as_json(value) for name, value in content.items()}
    values.within_bytes(issues, "input", document, max_bytes=MAX_DOCUMENT_BYTES)


def _as_json(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def _now() -> datetime:
    # BSON dates hold milliseconds: the payload then shows the time a later read will.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _content(workflow: Workflow) -> dict[str, Any]:
    content: dict[str, Any] = workflow.model_dump(mode="json", include=set(CONTENT_FIELDS))
    return content


async def audit_change(
    info: Info[Context], action: str, before: Workflow, after: Workflow, **extra: Any
) -> None:
    await record_document_change(
        info.context.services.postgres,
        info.context.actor,
        action=action,
        object_type="Workflow",
        object_id=after.id,
        summary={
            "version": {"old": before.version, "new": after.version},
            **audit.changes(_content(before), _content(after)),
            **extra,
        },
    )
