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

from collections.abc import Iterator, Sequence
from typing import Any, Final

from flowgate.search.base import DocumentType, SearchDocument
from models import access, documents, sql
from models.enums import ExecutionEventType, StepStatus

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


def execution_documents(
    execution: sql.Execution,
    agent: sql.Agent | None,
    events: Sequence[documents.ExecutionEvent],
    trace: documents.ExecutionTrace | None,
    workflow: documents.Workflow | None,
) -> list[SearchDocument]:
    """The execution's document, then one per finished step worth finding; all readable by
    whoever reads its workflow (`workflow`: the execution's, if it has one and it exists)."""
    category = agent.category if agent is not None else None
    readers = access.execution_readers(execution.workflow_id, workflow)
    found = [
        SearchDocument(
            organization_id=execution.organization_id,
            type=DocumentType.EXECUTION,
            object_id=execution.id,
            title=agent.name if agent is not None else "",
            body=_join(
                execution.error or "", *_strings(execution.input), *_strings(execution.result)
            ),
            updated_at=execution.updated_at,
            status=execution.status.value,
            category=category,
            readers=readers,
        )
    ]
    outputs = _step_outputs(trace)
    for event in sorted(events, key=lambda event: event.seq):
        if event.type is not ExecutionEventType.STEP_FINISHED or event.node_id is None:
            continue
        queue = outputs.get(event.node_id)
        output = queue.pop(0) if queue else None
        error = str(event.payload.get("error") or "")
        # Output worth finding by words is prose; single tokens (`stop`, `approve`) are not,
        # and indexing every step for them would multiply the index for nothing.
        prose = [text for text in _strings(output) if " " in text.strip()]
        if not error and not prose:
            continue
        body = _join(error, *prose)
        found.append(
            SearchDocument(
                organization_id=event.organization_id,
                type=DocumentType.EXECUTION_EVENT,
                object_id=event.id,
                title=event.node_id,
                body=body,
                updated_at=event.created_at,
                status=event.status,
                category=category,
                parent_id=execution.id,
                readers=readers,
            )
        )
    return found


def _step_outputs(trace: documents.ExecutionTrace | None) -> dict[str, list[Any]]:
    """Each node's finished steps' outputs, in order: the n-th `step_finished` event of a
    node is that node's n-th finished step."""
    outputs: dict[str, list[Any]] = {}
    for step in trace.steps if trace is not None else ():
        if step.status is not StepStatus.STARTED:
            outputs.setdefault(step.node_id, []).append(step.output)
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
