"""Workflows: the principal-facing forms of `models.access.WORKFLOW_RULES`, one per action."""

from __future__ import annotations

from typing import Any

from flowgate.principal import Principal
from models import access as rules
from models.access import Action
from models.documents import Workflow


def is_admin(principal: Principal) -> bool:
    """Unrestricted within the organization: every workflow and execution, every action."""
    return rules.unrestricted(principal)


def readable_workflows(principal: Principal) -> dict[str, Any]:
    """A MongoDB filter selecting the workflows `principal` may read (organization included)."""
    return rules.mongo_filter(principal, Action.READ)


def may_read_workflow(principal: Principal, workflow: Workflow) -> bool:
    return rules.allows(principal, Action.READ, workflow)


def may_run_workflow(principal: Principal, workflow: Workflow) -> bool:
    return rules.allows(principal, Action.RUN, workflow)


def may_change_workflow(principal: Principal, workflow: Workflow) -> bool:
    return rules.allows(principal, Action.CHANGE, workflow)


def may_share_workflow(principal: Principal, workflow: Workflow) -> bool:
    """May change the workflow's permissions (who may read, change and run it)."""
    return rules.allows(principal, Action.SHARE, workflow)
