"""The graph of a flowchart (and, later, of a workflow): nodes joined by directed edges.

`check_graph` finds every structural problem of a draft in one pass and returns the nodes
and edges ready to store, plus the agents the nodes name; whether those agents exist is one
SQL query for the whole graph (`resolvers.validation.references`)."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from models.documents import Connection, FlowNode
from models.documents.common import Position, edge_ids
from models.enums import NodeType
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

MAX_NODES: Final = 500
MAX_EDGES: Final = 2_000
NODE_ID_MAX: Final = 100
LABEL_MAX: Final = 200
CONDITION_MAX: Final = 1_000
DECISION_MIN_BRANCHES: Final = 2


@dataclass(frozen=True)
class NodeDraft:
    """A node as a client sent it: nothing checked yet (`type` may be any string when the
    graph arrives as JSON rather than through the GraphQL enum)."""

    id: object
    type: object
    label: object = ""
    x: float = 0.0
    y: float = 0.0
    data: object = None


@dataclass(frozen=True)
class EdgeDraft:
    source: object
    target: object
    condition: object = None
    id: object = None  # optional: given at save when absent (`edge_ids`)


@dataclass
class CheckedGraph:
    """The storable nodes and edges (of the elements that passed), and the agents named by
    `data.agentId`, by path."""

    nodes: list[FlowNode] = field(default_factory=list)
    edges: list[Connection] = field(default_factory=list)
    agent_references: dict[str, uuid.UUID] = field(default_factory=dict)


def check_graph(
    issues: Issues,
    nodes: Sequence[NodeDraft],
    edges: Sequence[EdgeDraft],
    *,
    nodes_path: str = "nodes",
    edges_path: str = "connections",
) -> CheckedGraph:
    graph = CheckedGraph()
    # Over a limit, the elements are still checked: the issue list is capped, and the
    # client learns everything else that is wrong in the same round.
    if len(nodes) > MAX_NODES:
        issues.add(nodes_path, IssueCode.TOO_MANY, f"at most {MAX_NODES} nodes, got {len(nodes)}")
    if len(edges) > MAX_EDGES:
        issues.add(edges_path, IssueCode.TOO_MANY, f"at most {MAX_EDGES} edges, got {len(edges)}")
    first_index: dict[str, int] = {}
    types: dict[str, NodeType] = {}
    for index, draft in enumerate(nodes):
        path = f"{nodes_path}[{index}]"
        node_id = values.text(
            issues, f"{path}.id", draft.id, max_length=NODE_ID_MAX, required=True, trim=False
        )
        node = _check_node(issues, path, draft, graph.agent_references)
        if node_id is None:
            continue
        if node_id in first_index:
            issues.add(
                f"{path}.id",
                IssueCode.DUPLICATE,
                f"{node_id!r} is already the id of {nodes_path}[{first_index[node_id]}]",
            )
            continue
        first_index[node_id] = index
        if node is not None:
            graph.nodes.append(node)
            types[node.id] = node.type
    graph.edges, outgoing = _check_edges(issues, edges, edges_path, first_index, types)
    for node in graph.nodes:
        if node.type is NodeType.DECISION and outgoing[node.id] < DECISION_MIN_BRANCHES:
            issues.add(
                f"{nodes_path}[{first_index[node.id]}]",
                IssueCode.TOO_FEW_BRANCHES,
                f"a decision node needs at least {DECISION_MIN_BRANCHES} outgoing edges with "
                f"conditions, it has {outgoing[node.id]}",
            )
    return graph


def _check_edges(
    issues: Issues,
    edges: Sequence[EdgeDraft],
    edges_path: str,
    first_index: dict[str, int],
    types: dict[str, NodeType],
) -> tuple[list[Connection], Counter[str]]:
    """The storable edges, each with its id, and how many edges leave each node."""
    checked: list[Connection] = []
    outgoing: Counter[str] = Counter()
    edge_index: dict[str, int] = {}
    for index, edge_draft in enumerate(edges):
        path = f"{edges_path}[{index}]"
        edge = _check_edge(issues, path, edge_draft, first_index, types)
        given = edge.id if edge is not None else None
        if given is not None and given in edge_index:
            issues.add(
                f"{path}.id",
                IssueCode.DUPLICATE,
                f"{given!r} is already the id of {edges_path}[{edge_index[given]}]",
            )
            edge = None
        elif given is not None:
            edge_index[given] = index
        if edge is not None:
            checked.append(edge)
        # Counted even when the edge has a problem of its own (a missing condition), which
        # is then reported once, on the edge, not again as a missing branch.
        if isinstance(edge_draft.source, str) and edge_draft.source in first_index:
            outgoing[edge_draft.source] += 1
    # Every stored edge has an id: the ones the client left out are given now.
    stored = [
        edge.model_copy(update={"id": edge_id})
        for edge, edge_id in zip(checked, edge_ids(checked), strict=True)
    ]
    return stored, outgoing


def _check_node(
    issues: Issues, path: str, draft: NodeDraft, agent_references: dict[str, uuid.UUID]
) -> FlowNode | None:
    """The node's other fields (its id is checked by the caller, for uniqueness too)."""
    found = issues.total
    node_type = _node_type(issues, f"{path}.type", draft.type)
    label = values.text(issues, f"{path}.label", draft.label, max_length=LABEL_MAX)
    if not (math.isfinite(draft.x) and math.isfinite(draft.y)):
        issues.add(f"{path}.position", IssueCode.INVALID, "coordinates must be finite numbers")
    data = _node_data(issues, f"{path}.data", draft.data, agent_references)
    if issues.total > found or not isinstance(draft.id, str) or node_type is None or label is None:
        return None
    return FlowNode(
        id=draft.id, type=node_type, label=label, position=Position(x=draft.x, y=draft.y), data=data
    )


def _node_type(issues: Issues, path: str, value: object) -> NodeType | None:
    try:
        return NodeType(str(value))
    except ValueError:
        known = ", ".join(node_type.value for node_type in NodeType)
        issues.add(path, IssueCode.INVALID, f"{str(value)[:50]!r} is not a node type ({known})")
        return None


def _node_data(
    issues: Issues, path: str, value: object, agent_references: dict[str, uuid.UUID]
) -> dict[str, Any]:
    if value is None:
        return {}
    # The whole document has a byte limit; a node's data has no smaller one of its own.
    data = values.json_object(issues, path, value, max_bytes=None)
    if data is None or "agentId" not in data:
        return data or {}
    agent_id = values.agent_reference(issues, f"{path}.agentId", data["agentId"])
    if agent_id is None:
        return data
    agent_references[f"{path}.agentId"] = agent_id
    # Stored as the bare UUID, which is what readers of node data (`FlowNode.agent`) expect.
    return {**data, "agentId": str(agent_id)}


def _check_edge(
    issues: Issues,
    path: str,
    draft: EdgeDraft,
    node_index: dict[str, int],
    types: dict[str, NodeType],
) -> Connection | None:
    found = issues.total
    edge_id = None
    if draft.id is not None:
        edge_id = values.text(
            issues, f"{path}.id", draft.id, max_length=NODE_ID_MAX, required=True, trim=False
        )
    ends: list[str] = []
    for end, value in (("source", draft.source), ("target", draft.target)):
        name = values.text(
            issues, f"{path}.{end}", value, max_length=NODE_ID_MAX, required=True, trim=False
        )
        if name is not None and name not in node_index:
            issues.add(f"{path}.{end}", IssueCode.UNKNOWN_NODE, f"no node has the id {name!r}")
        ends.append(name or "")
    condition = None
    if draft.condition is not None:
        condition = values.text(
            issues, f"{path}.condition", draft.condition, max_length=CONDITION_MAX
        )
    if types.get(ends[0]) is NodeType.DECISION and not condition:
        issues.add(
            f"{path}.condition",
            IssueCode.REQUIRED,
            "an edge leaving a decision node needs a condition",
        )
    if issues.total > found:
        return None
    return Connection(source=ends[0], target=ends[1], condition=condition or None, id=edge_id)
