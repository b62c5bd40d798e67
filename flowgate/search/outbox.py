"""The search outbox: which objects' search documents are stale.

A change marks its object in the same PostgreSQL transaction as the change itself (for a
MongoDB change: with its audit row, right after the document write), so a committed change
is never forgotten and a rolled-back one never indexed. The indexer drains the entries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate.search.base import DocumentType
from flowgate.search.sources import ROWS
from flowgate.services import Services
from models import documents, sql

# The types that are indexed (and rebuilt) as themselves; an execution's events come with the
# execution, a conversation's messages with the conversation.
INDEXED: Final = frozenset(
    {DocumentType.AGENT, DocumentType.WORKFLOW, DocumentType.EXECUTION, DocumentType.CONVERSATION}
)
# What a change may queue: those, and a message alone (posted, or a reply finished), which
# spares reindexing its whole conversation.
QUEUED: Final = INDEXED | {DocumentType.MESSAGE}
WORKFLOW_BATCH: Final = 1000


def mark_stale(
    session: AsyncSession, organization_id: uuid.UUID, object_type: str, object_id: object
) -> None:
    """Queue the object for indexing when `session` commits; other types are ignored."""
    if object_type not in {type_.value for type_ in QUEUED}:
        return
    try:
        key = object_id if isinstance(object_id, uuid.UUID) else uuid.UUID(str(object_id))
    except ValueError:
        return
    session.add(
        sql.SearchOutboxEntry(
            organization_id=organization_id, object_type=object_type, object_id=key
        )
    )


async def mark_executions_stale(
    services: Services, organization_id: uuid.UUID, workflow_id: uuid.UUID
) -> int:
    """Queue every execution of a workflow whose readers changed: their documents carry the
    workflow's readers. (Search checks each hit against the stores anyway; this keeps the
    index's counts and facets right.) Returns how many."""
    rows = select(
        sql.Execution.organization_id, literal(DocumentType.EXECUTION.value), sql.Execution.id
    ).where(
        sql.Execution.organization_id == organization_id, sql.Execution.workflow_id == workflow_id
    )
    async with services.postgres.session() as session, session.begin():
        result = await session.execute(
            insert(sql.SearchOutboxEntry).from_select(
                ["organization_id", "object_type", "object_id"], rows
            )
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_project_conversations_stale(session: AsyncSession, project_id: uuid.UUID) -> None:
    """Queue, with the change in `session`, the conversations held in a project whose status
    changed: whether they are shared (their documents' readers) follows the project's."""
    rows = select(
        sql.Conversation.organization_id,
        literal(DocumentType.CONVERSATION.value),
        sql.Conversation.id,
    ).where(sql.Conversation.project_id == project_id)
    await session.execute(
        insert(sql.SearchOutboxEntry).from_select(
            ["organization_id", "object_type", "object_id"], rows
        )
    )


async def mark_all_stale(
    services: Services,
    types: frozenset[DocumentType] = INDEXED,
    *,
    changed_since: datetime | None = None,
) -> int:
    """Queue every object of `types` (or those changed since a time); returns how many."""
    count = 0
    async with services.postgres.session() as session, session.begin():
        for type_, model in ROWS.items():
            if type_ not in types:
                continue
            rows = select(model.organization_id, literal(type_.value), model.id)
            if changed_since is not None:
                rows = rows.where(model.updated_at >= changed_since)
            result = await session.execute(
                insert(sql.SearchOutboxEntry).from_select(
                    ["organization_id", "object_type", "object_id"], rows
                )
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        if DocumentType.WORKFLOW in types:
            query = {} if changed_since is None else {"updated_at": {"$gte": changed_since}}
            batch: list[sql.SearchOutboxEntry] = []
            async for workflow in documents.Workflow.find(query):
                batch.append(
                    sql.SearchOutboxEntry(
                        organization_id=workflow.organization_id,
                        object_type=DocumentType.WORKFLOW.value,
                        object_id=workflow.id,
                    )
                )
                if len(batch) == WORKFLOW_BATCH:
                    session.add_all(batch)
                    await session.flush()
                    count, batch = count + len(batch), []
            session.add_all(batch)
            count += len(batch)
    return count
