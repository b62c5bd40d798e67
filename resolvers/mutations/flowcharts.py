"""Saving and deleting an agent's flowchart, with optimistic concurrency on its version.

The version check and the write are one MongoDB operation: an update filtered on the
expected version (or, for the first save, an insert guarded by the unique index on
`agent_id`). Of concurrent saves from the same version exactly one matches; the others
get the version that won."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from beanie import UpdateResponse
from pymongo.errors import DuplicateKeyError

from models.documents import Flowchart, FlowchartMetadata
from models.sql.base import utcnow
from resolvers.changes import record_document_change
from resolvers.mutations.access import require_agent_change
from resolvers.mutations.errors import InvalidInputError, NotFoundError, VersionConflictError
from resolvers.validation import described, values
from resolvers.validation.graph import CheckedGraph, EdgeDraft, NodeDraft, check_graph
from resolvers.validation.issues import IssueCode, Issues
from resolvers.validation.references import live_agent_ids, report_missing_agents

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_DOCUMENT_BYTES: Final = 256 * 1024
TITLE_MAX: Final = 200
LAYOUT_MAX: Final = 50


@dataclass(frozen=True)
class FlowchartDraft:
    """A whole flowchart as `saveFlowchart` receives it, before any check: the graph, and the
    metadata's fields flattened (`metadata.title` is `title`)."""

    nodes: Sequence[NodeDraft]
    connections: Sequence[EdgeDraft] = ()
    title: str = ""
    description: str = ""
    layout: str = "horizontal"


async def save_flowchart(
    info: Info[Context], *, agent_id: str, draft: FlowchartDraft, expected_version: int | None
) -> Flowchart:
    """Replace the agent's flowchart (create it when there is none) and bump its version.
    `expected_version` is the version the client edited: 0 or `None` when there was none."""
    principal = info.context.principal
    issues = Issues()
    local_agent_id = values.global_id(issues, "agentId", agent_id, "Agent")
    expected = expected_version or 0
    if expected < 0:
        issues.add("expectedVersion", IssueCode.OUT_OF_RANGE, "must be 0 or more")
    graph = check_graph(
        issues,
        draft.nodes,
        draft.connections,
        nodes_path="nodes",
        edges_path="connections",
    )
    metadata = _check_metadata(issues, draft)
    _check_size(issues, graph, metadata)
    # One query answers both: does the agent exist, and do the agents the nodes call?
    live = await live_agent_ids(
        info.context.services.postgres,
        principal.organization_id,
        {*graph.agent_references.values(), *([local_agent_id] if local_agent_id else [])},
    )
    if local_agent_id is not None and local_agent_id not in live:
        raise NotFoundError("Agent", agent_id)
    if local_agent_id is not None:
        agent = await info.context.loaders.agent_by_id.load(local_agent_id)
        if agent is not None:  # it is live (checked just above)
            require_agent_change(principal, agent)
    report_missing_agents(issues, graph.agent_references, live)
    if issues or local_agent_id is None or metadata is None:
        raise InvalidInputError(issues)
    flowchart = Flowchart(
        organization_id=principal.organization_id,
        agent_id=local_agent_id,
        version=expected + 1,
        nodes=graph.nodes,
        connections=graph.edges,
        metadata=metadata,
        updated_at=utcnow(),
    )
    previous = await _write(flowchart, expected)
    await record_document_change(
        info.context.services.postgres,
        info.context.actor,
        action="flowchart.save",
        object_type="Flowchart",
        object_id=flowchart.id,
        summary=_summary(agent_id, previous, flowchart),
    )
    return flowchart


async def delete_flowchart(
    info: Info[Context], *, agent_id: str, expected_version: int | None
) -> Flowchart:
    """Remove the agent's flowchart; the agent stays, with no flowchart (a later save starts
    again at version 1). With `expected_version`, only if that is the stored version. The
    flowchart as it was is the answer."""
    principal = info.context.principal
    issues = Issues()
    local_agent_id = values.global_id(issues, "agentId", agent_id, "Agent")
    if expected_version is not None and expected_version < 1:
        issues.add("expectedVersion", IssueCode.OUT_OF_RANGE, "must be 1 or more")
    if issues or local_agent_id is None:
        raise InvalidInputError(issues)
    agent = await info.context.loaders.agent_by_id.load(local_agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFoundError("Agent", agent_id)
    require_agent_change(principal, agent)
    scope = {"agent_id": local_agent_id, "organization_id": principal.organization_id}
    version = {"version": expected_version} if expected_version is not None else {}
    # One operation: a save that lands between a check and the delete cannot be lost.
    removed = await Flowchart.get_pymongo_collection().find_one_and_delete({**scope, **version})
    if removed is None:
        current = await Flowchart.find_one(scope)
        if current is None:
            raise NotFoundError("Flowchart", agent_id)
        raise VersionConflictError(expected_version or 0, current.version)
    flowchart: Flowchart = Flowchart.model_validate(removed)
    await record_document_change(
        info.context.services.postgres,
        info.context.actor,
        action="flowchart.delete",
        object_type="Flowchart",
        object_id=flowchart.id,
        summary={
            "agentId": agent_id,
            "version": flowchart.version,
            "nodes": len(flowchart.nodes),
            "connections": len(flowchart.connections),
        },
    )
    return flowchart


async def _write(flowchart: Flowchart, expected: int) -> Flowchart | None:
    """Store `flowchart` if the stored version is still `expected`; return what it replaced."""
    if expected == 0:
        try:
            await flowchart.insert()
        except DuplicateKeyError:
            # Another save created it first (or the client did not know it existed).
            raise VersionConflictError(expected, await _current_version(flowchart)) from None
        return None
    previous = await Flowchart.find_one(
        {
            "agent_id": flowchart.agent_id,
            "organization_id": flowchart.organization_id,
            "version": expected,
        }
    ).update(
        {
            "$set": {
                "version": flowchart.version,
                "nodes": flowchart.nodes,
                "connections": flowchart.connections,
                "metadata": flowchart.metadata,
                "updated_at": flowchart.updated_at,
            }
        },
        response_type=UpdateResponse.OLD_DOCUMENT,
    )
    if not isinstance(previous, Flowchart):  # None: no document had the expected version
        raise VersionConflictError(expected, await _current_version(flowchart))
    flowchart.id = previous.id
    return previous


async def _current_version(flowchart: Flowchart) -> int:
    current = await Flowchart.find_one(
        {"agent_id": flowchart.agent_id, "organization_id": flowchart.organization_id}
    )
    return current.version if current is not None else 0


def _check_metadata(issues: Issues, draft: FlowchartDraft) -> FlowchartMetadata | None:
    found = issues.total
    title = values.text(issues, "metadata.title", draft.title, max_length=TITLE_MAX)
    description = values.text(
        issues, "metadata.description", draft.description, max_length=described.DESCRIPTION_MAX
    )
    layout = values.text(issues, "metadata.layout", draft.layout, max_length=LAYOUT_MAX)
    if issues.total > found or title is None or description is None or layout is None:
        return None
    return FlowchartMetadata(title=title, description=description, layout=layout)


def _check_size(issues: Issues, graph: CheckedGraph, metadata: FlowchartMetadata | None) -> None:
    # Measured on what would be stored (the elements that passed their own checks).
    document = {
        "nodes": [node.model_dump(mode="json") for node in graph.nodes],
        "connections": [edge.model_dump(mode="json") for edge in graph.edges],
        "metadata": metadata.model_dump(mode="json") if metadata else {},
    }
    values.within_bytes(issues, "input", document, max_bytes=MAX_DOCUMENT_BYTES)


def _summary(agent_id: str, previous: Flowchart | None, saved: Flowchart) -> dict[str, Any]:
    fields = ("nodes", "connections", "metadata")
    before = previous.model_dump(mode="json", include=set(fields)) if previous else {}
    after = saved.model_dump(mode="json", include=set(fields))
    return {
        "agentId": agent_id,
        "version": {"old": previous.version if previous else 0, "new": saved.version},
        "nodes": len(saved.nodes),
        "connections": len(saved.connections),
        "changed": [name for name in fields if before.get(name) != after[name]],
    }
