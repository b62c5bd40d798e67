"""What there is to run, read through the GraphQL API: the agents that have a flowchart and
the active workflows, each as a graph to walk and the AI profile of whoever runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from flowgate.simulator.gateway import Gateway

MAX_PAGES = 10  # of 100 each: the demo data has far fewer

AGENTS = """
query SimulatorAgents($after: String) {
  agents(first: 100, after: $after, filter: {hasFlowchart: true, status: [ACTIVE, RUNNING]}) {
    edges { node {
      id name configuration
      flowchart {
        nodes { id type label data agent { id name configuration } }
        connections { source target condition }
      }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WORKFLOWS = """
query SimulatorWorkflows($after: String) {
  workflows(first: 100, after: $after, filter: {status: [ACTIVE]}) {
    edges { node {
      id name
      nodes { id type label data agent { id name configuration } }
      edges { source target condition }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass(frozen=True, slots=True)
class Profile:
    """The AI an agent is configured with (`configuration.provider` and `.model`)."""

    name: str
    provider: str | None
    model: str | None

    @classmethod
    def of(cls, agent: dict[str, Any]) -> Profile:
        configuration = agent.get("configuration") or {}
        provider = configuration.get("provider")
        model = configuration.get("model")
        return cls(
            name=str(agent.get("name") or ""),
            provider=provider if isinstance(provider, str) and provider else None,
            model=model if isinstance(model, str) and model else None,
        )


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: str  # the GraphQL enum name: AI, HUMAN, DECISION, ACTION, TIMER
    label: str
    data: dict[str, Any]
    calls: Profile | None  # the agent an action node calls, if any


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    condition: str | None


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    entry: str
    outgoing: dict[str, list[Edge]] = field(default_factory=dict)

    @classmethod
    def parse(cls, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> Graph | None:
        """None for a graph with nothing to run."""
        by_id = {
            raw["id"]: Node(
                id=raw["id"],
                type=raw["type"],
                label=raw.get("label") or "",
                data=raw.get("data") or {},
                calls=Profile.of(raw["agent"]) if raw.get("agent") else None,
            )
            for raw in nodes
        }
        if not by_id:
            return None
        parsed = tuple(
            Edge(raw["source"], raw["target"], raw.get("condition"))
            for raw in edges
            if raw["source"] in by_id and raw["target"] in by_id
        )
        outgoing: dict[str, list[Edge]] = {}
        for edge in parsed:
            outgoing.setdefault(edge.source, []).append(edge)
        # The entry node is the first one nothing leads to (the first node of a cycle else).
        targets = {edge.target for edge in parsed}
        entry = next((node_id for node_id in by_id if node_id not in targets), next(iter(by_id)))
        return cls(by_id, parsed, entry, outgoing)


@dataclass(frozen=True, slots=True)
class Target:
    """Something to start: an agent by its flowchart, or a workflow by its graph."""

    kind: Literal["agent", "workflow"]
    id: str  # global id
    name: str
    graph: Graph
    profile: Profile  # the agent that runs it (a workflow's first agent)


async def load_targets(gateway: Gateway) -> list[Target]:
    targets: list[Target] = []
    for agent in await _pages(gateway, AGENTS, "agents"):
        flowchart = agent.get("flowchart")
        graph = flowchart and Graph.parse(flowchart["nodes"], flowchart["connections"])
        if graph:
            targets.append(Target("agent", agent["id"], agent["name"], graph, Profile.of(agent)))
    for workflow in await _pages(gateway, WORKFLOWS, "workflows"):
        graph = Graph.parse(workflow["nodes"], workflow["edges"])
        # `startExecution` runs a workflow by the first agent one of its nodes calls.
        runner = next((n.calls for n in graph.nodes.values() if n.calls), None) if graph else None
        if graph and runner:
            targets.append(Target("workflow", workflow["id"], workflow["name"], graph, runner))
    return targets


async def _pages(gateway: Gateway, document: str, field_name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        connection = (await gateway.query(document, {"after": after}))[field_name]
        items.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    return items
