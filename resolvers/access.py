"""Which objects a principal may read, change or run: the rules, in one place.

Roles say what kind of thing someone may do (`schema.permissions` guards each field with
them); these rules say to which objects. Everything is within the principal's organization
first. Then:

- agents: any member reads them; a user changes the agents they own, an admin any;
- workflows: an admin reads, changes and runs all of them. Anyone else reads a workflow that
  is public, or names them as owner, editor or viewer, or that they created; changes one that
  names them as owner or editor, or that they created; runs one they may change, or a public
  one; and only its owners (or its creator) may change who may do what.

A workflow the principal may not read is reported as not found, exactly like one of another
organization: its existence is not revealed."""

from __future__ import annotations

from typing import Any

from flowgate.principal import Principal
from models.documents import Workflow
from models.enums import UserRole
from models.sql import Agent


def is_admin(principal: Principal) -> bool:
    return principal.role is UserRole.ADMIN


def may_change_agent(principal: Principal, agent: Agent) -> bool:
    return is_admin(principal) or (
        principal.role is UserRole.USER and agent.owner_id == principal.user_id
    )


def readable_workflows(principal: Principal) -> dict[str, Any]:
    """A MongoDB filter selecting the workflows `principal` may read (organization included)."""
    query: dict[str, Any] = {"organization_id": principal.organization_id}
    if not is_admin(principal):
        user = principal.user_id
        query["$and"] = [
            {
                "$or": [
                    {"permissions.is_public": True},
                    {"permissions.owners": user},
                    {"permissions.editors": user},
                    {"permissions.viewers": user},
                    {"created_by": user},
                ]
            }
        ]
    return query


def may_read_workflow(principal: Principal, workflow: Workflow) -> bool:
    if workflow.organization_id != principal.organization_id:
        return False
    if is_admin(principal) or workflow.permissions.is_public:
        return True
    permissions = workflow.permissions
    return principal.user_id in {
        *permissions.owners,
        *permissions.editors,
        *permissions.viewers,
        workflow.created_by,
    }


def may_change_workflow(principal: Principal, workflow: Workflow) -> bool:
    if is_admin(principal):
        return True
    if principal.role is not UserRole.USER:
        return False
    permissions = workflow.permissions
    return principal.user_id in {*permissions.owners, *permissions.editors, workflow.created_by}


def may_share_workflow(principal: Principal, workflow: Workflow) -> bool:
    """May change the workflow's permissions (who may read, change and run it)."""
    if is_admin(principal):
        return True
    if principal.role is not UserRole.USER:
        return False
    return principal.user_id in {*workflow.permissions.owners, workflow.created_by}


def may_run_workflow(principal: Principal, workflow: Workflow) -> bool:
    if principal.role is UserRole.VIEWER:
        return False
    return may_change_workflow(principal, workflow) or workflow.permissions.is_public
