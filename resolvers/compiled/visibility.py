"""Which executions a principal may see, as a SQL predicate: the one place the compiled path
asks for the workflow-readability rule.

The rule's shape (defined once in `resolvers.access`): `readable_workflow_ids(principal)`
gives the ids of the workflows the principal may read, or `None` for "unrestricted"
(an admin); `execution_visible(principal, readable_ids)` turns that into a predicate
(`workflow_id IS NULL OR workflow_id IN ids`). Until `resolvers.access` defines it, the
resolver path shows every execution of the principal's organization, and so does this: the
ids are `None`. To adopt the rule, point the two functions below at `resolvers.access`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true

from flowgate.principal import Principal
from flowgate.services import Services


async def readable_workflow_ids(services: Services, principal: Principal) -> frozenset[str] | None:
    """The workflows whose executions `principal` may see; `None`: all of them (today)."""
    return None


def execution_visible(
    workflow_id: ColumnElement[Any], readable_ids: frozenset[str] | None
) -> ColumnElement[bool]:
    """`workflow_id IS NULL OR workflow_id IN ids`, or TRUE when unrestricted."""
    if readable_ids is None:
        return true()
    return or_(workflow_id.is_(None), workflow_id.in_(sorted(readable_ids)))
