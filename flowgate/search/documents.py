"""From the stores' objects to search documents: what text each type is found by.

- Agent: its name; description, model, provider and capabilities (its tags).
- Workflow: its name; description and node labels; tags; readers unless public.
- Execution: its agent's name; error, and the text of its input and result; its workflow's
  readers.
- ExecutionEvent: a finished step (`step_finished`) with an error or prose in its output:
  the node; the error and the output's text (the output is read off the trace's step); its
  execution's readers.

Readers come from the one rule, `models.access`."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from flowgate.search.base import DocumentType, SearchDocument
from models import access, documents, sql
from models.enums import ExecutionStatus, StepStatus

# Text past this many characters is not indexed (a huge JSON input would bloat the index).
MAX_BODY_CHARS: Final = 4000


def agent_document(agent: sql.Agent) -> SearchDocument:
    configuration = agent.configuration or {}
    return SearchDocument(
        organization_id=agent.organization_id,
        type=DocumentType.AGENT,
        object_id=agent.id,
        title=agent.name,
        body=_join(
            agent.description,
            str(configuration.get("model") or ""),
            str(configuration.get("provider") or ""),
        ),
        updated_at=agent.updated_at,
        status=agent.status.value,
        category=agent.category,
        tags=tuple(agent.capabilities or ()),
    )


def workflow_document(workflow: documents.Workflow) -> SearchDocument:
    return SearchDocument(
        organization_id=workflow.organization_id,
        type=DocumentType.WORKFLOW,
        object_id=workflow.id,
        title=workflow.name,
        body=_join(workflow.description, *(node.label for node in workflow.nodes)),
        updated_at=workflow.updated_at,
        status=workflow.status.value,
        category=workflow.category,
        tags=tuple(workflow.tags),
        readers=access.readers(workflow),
    )


@dataclass(frozen=True, slots=True)
class ExecutionSource:
    """An execution as its documents read it: these columns of its row and its agent's.
    (`sources` selects just them: loading ORM objects cost more than building documents.)"""

    id: uuid.UUID
    organization_id: uuid.UUID
    workflow_id: uuid.UUID | None
    status: ExecutionStatus
    error: str | None
    input: dict[str, Any] | None
    result: dict[str, Any] | None
    updated_at: datetime
    agent_name: str
    agent_category: str | None


@dataclass(frozen=True, slots=True)
class StepEvent:
    """A `step_finished` event as its document reads it (`sources` reads just these fields:
    validating whole events into models was most of an indexer pass's CPU). Its organization
    is its execution's, and not read again; its id comes as its 16 bytes, made a UUID only
    for an event that gets a document (about one in ten)."""

    id_bytes: bytes
    seq: int
    node_id: str | None
    status: str | None
    error: str
    created_at: datetime


def execution_documents(
    execution: ExecutionSource,
    events: Sequence[StepEvent],
    steps: Iterable[Mapping[str, Any]],
    workflow: documents.Workflow | None,
) -> list[SearchDocument]:
    """The execution's document, then one per finished step worth finding; all readable by
    whoever reads its workflow (`workflow`: the execution's, if it has one and it exists).
    `steps` are its trace's steps (`node_id`, `status`, `output`), in order."""
    category = execution.agent_category
    readers = access.execution_readers(execution.workflow_id, workflow)
    found = [
        SearchDocument(
            organization_id=execution.organization_id,
            type=DocumentType.EXECUTION,
            object_id=execution.id,
            title=execution.agent_name,
            body=_join(
                execution.error or "", *_strings(execution.input), *_strings(execution.result)
            ),
            updated_at=execution.updated_at,
            status=execution.status.value,
            category=category,
            readers=readers,
        )
    ]
    outputs = _step_outputs(steps)
    for event in sorted(events, key=lambda event: event.seq):
        if event.node_id is None:
            continue
        queue = outputs.get(event.node_id)
        output = queue.popleft() if queue else None
        # Output worth finding by words is prose; single tokens (`stop`, `approve`) are not,
        # and indexing every step for them would multiply the index for nothing.
        prose = [text for text in _strings(output) if " " in text.strip()]
        if not event.error and not prose:
            continue
        found.append(
            SearchDocument(
                organization_id=execution.organization_id,
                type=DocumentType.EXECUTION_EVENT,
                object_id=uuid.UUID(bytes=event.id_bytes),
                title=event.node_id,
                body=_join(event.error, *prose),
                updated_at=event.created_at,
                status=event.status,
                category=category,
                parent_id=execution.id,
                readers=readers,
            )
        )
    return found


def _step_outputs(steps: Iterable[Mapping[str, Any]]) -> dict[str, deque[Any]]:
    """Each node's finished steps' outputs, in order: the n-th `step_finished` event of a
    node is that node's n-th finished step."""
    outputs: dict[str, deque[Any]] = {}
    for step in steps:
        if step.get("status") != StepStatus.STARTED.value:
            outputs.setdefault(step["node_id"], deque()).append(step.get("output"))
    return outputs


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part and part.strip())[:MAX_BODY_CHARS]
