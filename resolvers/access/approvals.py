"""Approvals: who may be asked, and who may decide.

- Approvers must be active members of the organization who may read the run (for a run of
  a workflow, who may read the workflow, `WORKFLOW_RULES` READ): any role, viewers
  included, since deciding is what they are named for, not a general right to write.
- A decision is taken by one of the named approvers, by whoever may share the workflow
  (its owners and its creator, `WORKFLOW_RULES` SHARE), or by an admin. For a run of no
  workflow, its drivers (the starter or the agent's owner) stand in for the owners.
- Pausing and resuming a run (operators) takes CHANGE on its workflow: its owners, editors
  and creator with the user role, and admins (`may_drive_execution(..., Action.CHANGE)`)."""

from __future__ import annotations

from flowgate.principal import Principal
from models import access as rules
from models.access import Action
from models.documents import Workflow
from models.sql import Approval
from resolvers.access.workflows import is_admin


def may_decide_approval(
    principal: Principal, approval: Approval, *, workflow: Workflow | None, drives_run: bool
) -> bool:
    """`drives_run`: whether the principal may drive the approval's run (used only when the
    run has no workflow)."""
    if approval.organization_id != principal.organization_id:
        return False
    if is_admin(principal) or principal.user_id in approval.approvers:
        return True
    if workflow is not None:
        return rules.allows(principal, Action.SHARE, workflow)
    return drives_run
