"""Which objects a principal may read, run, change or share: the rules, in one place.

Roles say what kind of thing someone may do (`schema.permissions` guards each field with
them); these rules say to which objects. Everything is within the principal's organization
first. Then:

- agents: any member reads them; a user changes the agents they own, an admin any;
- workflows: one declarative rule, `models.access.WORKFLOW_RULES`. An admin reads, runs,
  changes and shares all of them. Anyone else reads a workflow that is public, or names them
  as owner, editor or viewer, or that they created; a user runs one that is public or names
  them as owner or editor (or they created); changes one that names them as owner or editor
  (or they created); and shares one (changes who may do what) that names them as owner (or
  they created). Every form of the rule (the Python predicate, the MongoDB filter, the
  search readers, the SQL predicate on executions, the live-updates filter) is derived from
  that one definition (`workflows`, `executions`);
- executions: one of a workflow is read by whoever may read the workflow; one of no workflow
  by every member. Driving an execution (`reportExecutionStep`, `finishExecution`,
  `cancelExecution`) needs the user role and: for one of a workflow, that the workflow be
  readable (else the execution is not found) and runnable (else forbidden); for one of no
  workflow, to be its starter or its agent's owner (`executions.DRIVERS_WITHOUT_WORKFLOW`).
  An admin drives any. An engine drives with an API key, which acts as its user: give it the
  key of an admin, or of the user who starts what it runs. Pausing and resuming takes the
  workflow's change permission instead of run (`approvals`);
- approvals: who may be asked and who may decide (`approvals`).

An object the principal may not read is reported as not found, exactly like one of another
organization: its existence is not revealed."""

from __future__ import annotations

from resolvers.access.agents import may_change_agent
from resolvers.access.approvals import may_decide_approval
from resolvers.access.executions import (
    READABLE_IDS,
    documents_visible,
    execution_visible,
    may_drive_execution,
    may_read_execution,
    of_readable_workflow,
    of_readable_workflows,
    readable_ids_parameter,
    readable_workflow_ids,
    search_reader,
)
from resolvers.access.workflows import (
    is_admin,
    may_change_workflow,
    may_read_workflow,
    may_run_workflow,
    may_share_workflow,
    readable_workflows,
)

__all__ = [
    "READABLE_IDS",
    "documents_visible",
    "execution_visible",
    "is_admin",
    "may_change_agent",
    "may_change_workflow",
    "may_decide_approval",
    "may_drive_execution",
    "may_read_execution",
    "may_read_workflow",
    "may_run_workflow",
    "may_share_workflow",
    "of_readable_workflow",
    "of_readable_workflows",
    "readable_ids_parameter",
    "readable_workflow_ids",
    "readable_workflows",
    "search_reader",
]
