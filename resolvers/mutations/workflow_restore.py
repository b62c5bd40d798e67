"""Restoring a workflow to an earlier version: that version's content becomes the next
version (history is never rewritten: the version it replaces is kept, as for any change).

What is restored is what the workflow does: every field of its content (name, description,
nodes and edges, tags, category, settings, and any field added to `WorkflowContent`) but two.
Who may see and change it (its permissions) and its status stay as they are now: rolling
back a graph must not silently re-share it or revive an archived one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from models.documents import WorkflowContent, WorkflowVersion
from models.enums import WorkflowStatus
from resolvers import access
from resolvers.drafts.workflow import ContentChanges
from resolvers.flowcharts import node_agent_id
from resolvers.mutations.access import require_workflow
from resolvers.mutations.errors import (
    InvalidInputError,
    InvalidTransitionError,
    VersionConflictError,
)
from resolvers.mutations.workflows import audit_change, find_workflow, replace_workflow
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues
from resolvers.validation.references import live_agent_ids, report_missing_agents

if TYPE_CHECKING:
    from strawberry import Info

    from models.documents import Workflow
    from resolvers.context import Context

# The content a restore leaves as it is now (why: above); it copies back all the rest, so
# that a field added to the content base is restored with nothing to list here.
KEPT: Final = frozenset({"permissions", "status"})
RESTORED: Final = tuple(name for name in WorkflowContent.model_fields if name not in KEPT)


async def restore_workflow_version(
    info: Info[Context], *, workflow_id: str, version: int, expected_version: int
) -> Workflow:
    """Make the content of `version` the workflow's next version, if the stored version is
    still `expected_version`."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "id", workflow_id, "Workflow")
    if version < 1:
        issues.add("version", IssueCode.OUT_OF_RANGE, "must be 1 or more")
    if expected_version < 1:
        issues.add("expectedVersion", IssueCode.OUT_OF_RANGE, "must be 1 or more")
    if issues or local_id is None:
        raise InvalidInputError(issues)
    current = await find_workflow(info, local_id, workflow_id)
    require_workflow(principal, current, workflow_id, access.may_change_workflow, "change")
    snapshot = None
    if version >= current.version:
        issues.add("version", IssueCode.OUT_OF_RANGE,
                   f"must be an earlier version, below {current.version}")  # fmt: skip
    else:
        snapshot = await WorkflowVersion.find_one(
            {"workflow_id": current.id, "organization_id": current.organization_id,
             "version": version}
        )  # fmt: skip
        if snapshot is None:
            issues.add("version", IssueCode.NOT_FOUND, f"version {version} is not kept")
    if snapshot is not None:
        await _report_deleted_agents(info, issues, snapshot)
    if issues or snapshot is None:
        raise InvalidInputError(issues)
    if current.version != expected_version:
        raise VersionConflictError(expected_version, current.version)
    if current.status is WorkflowStatus.ARCHIVED:
        raise InvalidTransitionError("An archived workflow cannot be changed")
    changes = ContentChanges(**{name: getattr(snapshot, name) for name in RESTORED})
    restored = await replace_workflow(current, changes, created_by=principal.user_id)
    await audit_change(info, "workflow.restore", current, restored, restored_from=version)
    return restored


async def _report_deleted_agents(
    info: Info[Context], issues: Issues, snapshot: WorkflowVersion
) -> None:
    """A node of the old version that calls an agent deleted since: the restore would store
    a graph no save could, so it is refused, naming the node."""
    references = {
        f"version.nodes[{index}].data.agentId": agent_id
        for index, node in enumerate(snapshot.nodes)
        if (agent_id := node_agent_id(node.data)) is not None
    }
    if references:
        organization_id = info.context.principal.organization_id
        postgres = info.context.services.postgres
        live = await live_agent_ids(postgres, organization_id, set(references.values()))
        report_missing_agents(issues, references, live)
