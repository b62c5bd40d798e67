"""Recording a change: who made it (the audit log) and what must be reindexed (the search
outbox), both in the change's own PostgreSQL transaction, so neither can be forgotten alone.

A change made in MongoDB cannot share a transaction with PostgreSQL: its record is written
once the document write has succeeded (`record_document_change`); the search indexer then
reads the document as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowgate.search.outbox import mark_stale
from resolvers import audit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.principal import Actor
    from flowgate.stores.postgres import Postgres


def record_change(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object,
    summary: dict[str, Any],
) -> None:
    """The audit entry and the reindex of the changed object, added to `session`."""
    audit.add_entry(
        session,
        actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )
    mark_stale(session, actor.organization_id, object_type, object_id)


async def record_document_change(
    postgres: Postgres,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object,
    summary: dict[str, Any],
) -> None:
    """`record_change` in a transaction of its own, for a change already written to MongoDB."""
    async with postgres.session() as session, session.begin():
        record_change(
            session,
            actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
        )
