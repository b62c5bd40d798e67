"""Reading what the index should hold from the stores (the source of truth): some objects
by id (the indexer), or all of them in batches (a rebuild)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bson.binary import Binary, UuidRepresentation
from sqlalchemy import func, select

from flowgate.search import chats
from flowgate.search.base import DocumentType, SearchDocument, document_key
from flowgate.search.documents import (
    ExecutionSource,
    StepEvent,
    agent_document,
    execution_documents,
    workflow_document,
)
from flowgate.services import Services
from models import documents, sql
from models.enums import ExecutionEventType

BATCH: Final = 500
# Execution ids per `$in` query when a batch's ids are scattered (`_execution_filters`).
SCATTERED_CHUNK: Final = 100
# What an execution's documents read: these columns (not ORM objects, which cost more to load
# than the documents to build), and these fields of its events and trace (not Beanie models:
# validating whole events and traces, step inputs and all, was most of the CPU of a pass).
EXECUTION_COLUMNS: Final = (
    sql.Execution.id,
    sql.Execution.organization_id,
    sql.Execution.workflow_id,
    sql.Execution.status,
    sql.Execution.error,
    sql.Execution.input,
    sql.Execution.result,
    sql.Execution.updated_at,
    sql.Agent.name,
    sql.Agent.category,
)
EVENT_FIELDS: Final = {
    "execution_id": 1, "seq": 1, "node_id": 1, "status": 1, "payload.error": 1, "created_at": 1
}  # fmt: skip
TRACE_FIELDS: Final = {
    "_id": 0, "execution_id": 1, "steps.node_id": 1, "steps.status": 1, "steps.output": 1
}  # fmt: skip
# The types read from PostgreSQL rows, by the model of their rows.
ROWS: Final[dict[DocumentType, Any]] = {
    DocumentType.AGENT: sql.Agent,
    DocumentType.EXECUTION: sql.Execution,
    DocumentType.CONVERSATION: sql.Conversation,
}


@dataclass
class Loaded:
    """What the index should now hold for some objects: documents to write, and keys (and
    events of executions) to remove because their object is gone."""

    documents: list[SearchDocument] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    gone_parents: set[uuid.UUID] = field(default_factory=set)


async def load(services: Services, type_: DocumentType, ids: Collection[uuid.UUID]) -> Loaded:
    """The current documents of the objects `ids` of `type_`, whatever their organization."""
    loaded = Loaded()
    ids = list(ids)
    if type_ is DocumentType.AGENT:
        async with services.postgres.session() as session:
            agents = (await session.scalars(select(sql.Agent).where(sql.Agent.id.in_(ids)))).all()
        live = [agent for agent in agents if agent.deleted_at is None]
        loaded.documents = [agent_document(agent) for agent in live]
    elif type_ is DocumentType.WORKFLOW:
        workflows = await documents.Workflow.find({"_id": {"$in": ids}}).to_list()
        loaded.documents = [workflow_document(workflow) for workflow in workflows]
    elif type_ is DocumentType.EXECUTION:
        loaded.documents = await _executions(services, ids)
        present = {d.object_id for d in loaded.documents if d.type is DocumentType.EXECUTION}
        loaded.gone_parents = set(ids) - present
    elif type_ is DocumentType.CONVERSATION:
        await chats.load_conversations(services, ids, loaded)
    elif type_ is DocumentType.MESSAGE:
        await chats.load_messages(services, ids, loaded)
    found = {document.object_id for document in loaded.documents}
    loaded.gone = {document_key(type_, object_id) for object_id in ids if object_id not in found}
    return loaded


async def everything(
    services: Services, type_: DocumentType
) -> AsyncIterator[list[SearchDocument]]:
    """Every document of a type (executions with their events, conversations with their
    messages), in batches."""
    if type_ is DocumentType.WORKFLOW:
        batch: list[SearchDocument] = []
        async for workflow in documents.Workflow.find({}):
            batch.append(workflow_document(workflow))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    model = ROWS[type_]
    last: uuid.UUID | None = None
    while True:
        query = select(model.id).order_by(model.id).limit(BATCH)
        if last is not None:
            query = query.where(model.id > last)
        async with services.postgres.session() as session:
            ids = list((await session.scalars(query)).all())
        if not ids:
            return
        last = ids[-1]
        yield (await load(services, type_, ids)).documents


async def _executions(services: Services, ids: list[uuid.UUID]) -> list[SearchDocument]:
    async with services.postgres.session() as session:
        rows = (
            await session.execute(
                select(*EXECUTION_COLUMNS)
                .join(sql.Agent, sql.Agent.id == sql.Execution.agent_id)
                .where(sql.Execution.id.in_(ids))
            )
        ).all()
    if not rows:
        return []
    executions = [ExecutionSource(*row) for row in rows]
    events_of: dict[bytes, list[StepEvent]] = {}
    steps_of: dict[uuid.UUID, list[dict[str, Any]]] = {}
    # Their ids as bytes, not UUIDs: making two UUIDs per finished step was about half the CPU
    # of reading the events, and only about one event in ten gets a document.
    events = documents.ExecutionEvent.get_pymongo_collection()
    events = events.with_options(
        codec_options=events.codec_options.with_options(
            uuid_representation=UuidRepresentation.UNSPECIFIED
        )
    )
    for selected in await _execution_filters(services, ids):
        found_events = events.find(
            {**_binary(selected), "type": ExecutionEventType.STEP_FINISHED.value}, EVENT_FIELDS
        )
        async for event in found_events:
            events_of.setdefault(bytes(event["execution_id"]), []).append(_step_event(event))
        traces = documents.ExecutionTrace.get_pymongo_collection().find(selected, TRACE_FIELDS)
        async for trace in traces:
            steps_of[trace["execution_id"]] = trace.get("steps") or []
    # Each execution is found by its workflow's readers: one query for the batch's workflows.
    workflow_ids = list({e.workflow_id for e in executions if e.workflow_id is not None})
    workflows = (
        await documents.Workflow.find({"_id": {"$in": workflow_ids}}).to_list()
        if workflow_ids
        else []
    )
    workflow_of = {workflow.id: workflow for workflow in workflows}
    found: list[SearchDocument] = []
    for execution in executions:
        found += execution_documents(
            execution,
            events_of.get(execution.id.bytes, []),
            steps_of.get(execution.id, []),
            workflow_of.get(execution.workflow_id) if execution.workflow_id else None,
        )
    return found


def _binary(value: Any) -> Any:
    """A filter with its UUIDs as the BSON binaries they are stored as (for a collection that
    reads UUIDs as they are stored, which cannot encode a UUID)."""
    if isinstance(value, uuid.UUID):
        return Binary.from_uuid(value)
    if isinstance(value, dict):
        return {key: _binary(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_binary(item) for item in value]
    return value


def _step_event(raw: Mapping[str, Any]) -> StepEvent:
    payload = raw.get("payload") or {}
    return StepEvent(
        id_bytes=bytes(raw["_id"]),
        seq=raw["seq"],
        node_id=raw.get("node_id"),
        status=raw.get("status"),
        error=str(payload.get("error") or ""),
        created_at=raw["created_at"],
    )


async def _execution_filters(services: Services, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """MongoDB filters on `execution_id` that together select at least `ids` (callers match
    the results against them). A rebuild's batches, and the indexer's after a seed, are runs of
    consecutive ids: a range over the `(execution_id, seq)` index reads just those, where an
    `$in` of 500 ids costs 500 index seeks (about 5 s on SecantusDB, the store timeout).
    Scattered ids keep `$in`, so a range never reads many more executions than were asked
    for, in chunks of `SCATTERED_CHUNK` so that no one query nears the timeout."""
    low, high = min(ids), max(ids)
    async with services.postgres.session() as session:
        spanned = await session.scalar(
            select(func.count()).where(sql.Execution.id >= low, sql.Execution.id <= high)
        )
    if (spanned or 0) <= 2 * len(ids):
        return [{"execution_id": {"$gte": low, "$lte": high}}]
    ordered = sorted(ids)
    return [
        {"execution_id": {"$in": ordered[start : start + SCATTERED_CHUNK]}}
        for start in range(0, len(ordered), SCATTERED_CHUNK)
    ]
