"""Who may be told about a workflow's run: the members named, active, of the organization,
who may read the workflow (`models.access.WORKFLOW_RULES`, the one rule), and who did not
turn the kind off in their own preferences."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import access
from models.access import Action
from models.documents import Workflow
from models.enums import NotificationKind, UserRole
from models.sql import User

# The personal switch (`resolvers.identity.preferences`) that can silence a kind, when the
# person turned it off; a kind
# not listed cannot be silenced (an approval waits on the person).
PREFERENCE_OF: dict[NotificationKind, str] = {
    NotificationKind.EXECUTION_FAILED: "execution_failed",
    NotificationKind.EXECUTION_SUCCEEDED: "execution_succeeded",
}


@dataclass(frozen=True)
class Member:
    """A user as `models.access.Subject`: what the workflow rule asks of whoever it judges."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: UserRole


def _opted_out(user: User, switch: str) -> bool:
    """Only a switch the person turned off themselves: the workflow's settings decide who is
    told, and a default (`execution_succeeded` is off until chosen) must not overrule them."""
    chosen = (user.preferences or {}).get("notifications") or {}
    return chosen.get(switch) is False


def owners(workflow: Workflow) -> list[uuid.UUID]:
    """Who owns a workflow's runs: its owners and its creator."""
    named = [*workflow.permissions.owners]
    if workflow.created_by is not None:
        named.append(workflow.created_by)
    return named


async def recipients(
    session: AsyncSession,
    organization_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    workflow: Workflow | None,
    kind: NotificationKind,
) -> list[uuid.UUID]:
    """Those of `user_ids` to tell, sorted (the order counters are locked in)."""
    wanted = set(user_ids)
    if not wanted:
        return []
    users = (
        await session.scalars(
            select(User).where(
                User.id.in_(wanted), User.organization_id == organization_id, User.is_active
            )
        )
    ).all()
    switch = PREFERENCE_OF.get(kind)
    told = []
    for user in users:
        member = Member(user.organization_id, user.id, user.role)
        if workflow is not None and not access.allows(member, Action.READ, workflow):
            continue
        if switch is not None and _opted_out(user, switch):
            continue
        told.append(user.id)
    return sorted(told)
