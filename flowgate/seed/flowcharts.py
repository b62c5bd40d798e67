"""One flowchart per agent: a layered DAG laid out on a grid.

Layer 0 holds the start node, the last layer one end node, the layers between 1 to 6 nodes
each: wide rather than deep, as an execution walks one node per layer and each step it takes
is two or three documents in the event log. Edges only go forward, so the graph is acyclic;
every node past the start gets an edge from the layer before it, so all of it is reachable
from the start. Each flowchart uses all five node types; decision nodes branch two or more
ways, every branch with a condition."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from typing import Any

from flowgate.seed.entities import AgentSeed, new_id, shift
from flowgate.seed.graph import EdgeSeed, FlowchartSeed, NodeSeed
from flowgate.seed.vocabulary import ACTIONS, AI_PROMPTS, CONDITIONS, NODE_LABELS, PROVIDER_MODELS
from models.enums import NodeType

MIN_NODES, MAX_NODES = 5, 40
COLUMN_WIDTH, ROW_HEIGHT = 260.0, 140.0
TYPE_WEIGHTS = {
    NodeType.AI: 0.36,
    NodeType.ACTION: 0.24,
    NodeType.DECISION: 0.14,
    NodeType.HUMAN: 0.1,
    NodeType.TIMER: 0.16,
}
AGENT_CALL_SHARE = 0.25  # of the action nodes in the middle of a flowchart
DAY_MS = 24 * 3600 * 1000


def build_flowchart(
    rng: random.Random, agent: AgentSeed, peers: list[AgentSeed], anchor: datetime
) -> FlowchartSeed:
    """`peers`: the other agents of the same organization, which action nodes may call."""
    size = MIN_NODES + int((MAX_NODES - MIN_NODES) * rng.betavariate(1.3, 3.2))
    layers = _layers(rng, size)
    types = _node_types(rng, layers)
    tallest = max(len(layer) for layer in layers)
    nodes: list[NodeSeed] = []
    for column, layer in enumerate(layers):
        offset = (tallest - len(layer)) * ROW_HEIGHT / 2
        for row, index in enumerate(layer):
            node_type = types[index]
            if index == 0:
                node_id, label, data = "start", "Receive request", {"action": "receive_input"}
            elif index == size - 1:
                node_id = "end"
                label, data = _end_node(node_type, agent)
            else:
                node_id = f"{node_type.value}_{index}"
                label, data = _node_content(rng, node_type, agent, peers)
            nodes.append(
                NodeSeed(
                    id=node_id,
                    type=node_type,
                    label=label,
                    x=column * COLUMN_WIDTH,
                    y=offset + row * ROW_HEIGHT,
                    data=data,
                )
            )
    edges = _connect(rng, layers, types, [node.id for node in nodes])
    return FlowchartSeed(
        id=new_id(rng),
        agent=agent,
        version=rng.randint(1, 6),
        nodes=nodes,
        edges=edges,
        description=f"How {agent.name} handles a request, step by step.",
        updated_at=shift(agent.updated_at, -rng.randint(0, DAY_MS)),
    )


def _layers(rng: random.Random, size: int) -> list[list[int]]:
    """Node indexes per layer: [start], at least two middle layers, [end]."""
    widths: list[int] = []
    remaining = size - 2
    while remaining:
        width = min(remaining, rng.choice((1, 2, 3, 3, 4, 5, 6)))
        widths.append(width)
        remaining -= width
    if len(widths) == 1:  # a decision needs a middle layer with two nodes after it
        widths = [widths[0] - 1, 1]
    layers, index = [[0]], 1
    for width in widths:
        layers.append(list(range(index, index + width)))
        index += width
    layers.append([index])
    return layers


def _node_types(rng: random.Random, layers: list[list[int]]) -> list[NodeType]:
    size = layers[-1][0] + 1
    # A decision needs at least two nodes after its layer: not in the last middle layer.
    can_decide = {index for layer in layers[1:-2] for index in layer}
    middle = [index for layer in layers[1:-1] for index in layer]
    # Small charts end with an AI node so that all five types fit.
    end_type = NodeType.AI if size <= 6 or rng.random() < 0.5 else NodeType.ACTION
    types = [NodeType.ACTION] * size
    types[-1] = end_type
    for index in middle:
        choices = [t for t in TYPE_WEIGHTS if t is not NodeType.DECISION or index in can_decide]
        types[index] = rng.choices(choices, [TYPE_WEIGHTS[t] for t in choices])[0]
    counts = Counter(types)
    # Put in each type that is missing, overwriting a node whose type occurs more than once.
    for _ in range(len(NodeType) * 2):
        missing = [t for t in NodeType if counts[t] == 0]
        if not missing:
            break
        wanted = NodeType.DECISION if NodeType.DECISION in missing else missing[0]
        allowed = [i for i in middle if wanted is not NodeType.DECISION or i in can_decide]
        spare = [i for i in allowed if counts[types[i]] > 1] or allowed
        chosen = rng.choice(spare)
        counts[types[chosen]] -= 1
        types[chosen] = wanted
        counts[wanted] += 1
    return types


def _node_content(  # noqa: PLR0911 - one return per node type reads best
    rng: random.Random, node_type: NodeType, agent: AgentSeed, peers: list[AgentSeed]
) -> tuple[str, dict[str, Any]]:
    label = rng.choice(NODE_LABELS[node_type.value])
    match node_type:
        case NodeType.AI:
            # Mostly the agent's own model; now and then a cheaper one from the same provider.
            model = (
                agent.model if rng.random() < 0.8 else rng.choice(PROVIDER_MODELS[agent.provider])
            )
            return label, {
                "provider": agent.provider,
                "model": model,
                "prompt": rng.choice(AI_PROMPTS),
                "temperature": agent.configuration["temperature"],
            }
        case NodeType.HUMAN:
            return label, {
                "assignee_role": rng.choice(("admin", "user")),
                "instructions": f"{label}: check the draft and approve or reject it.",
                "timeout_minutes": rng.choice((15, 30, 60, 240)),
            }
        case NodeType.DECISION:
            return label, {"strategy": "first_match"}
        case NodeType.TIMER:
            if rng.random() < 0.2:
                return label, {"cron": rng.choice(("0 * * * *", "*/15 * * * *", "0 9 * * 1-5"))}
            return label, {"delay_seconds": rng.choice((2, 5, 10, 30, 60))}
        case _:
            if peers and rng.random() < AGENT_CALL_SHARE:
                peer = rng.choice(peers)
                return f"Ask {peer.name}", {"action": "call_agent", "agentId": str(peer.id)}
            return label, {"action": rng.choice(ACTIONS)}


def _end_node(node_type: NodeType, agent: AgentSeed) -> tuple[str, dict[str, Any]]:
    if node_type is NodeType.AI:
        return "Compose final answer", {
            "provider": agent.provider,
            "model": agent.model,
            "prompt": "Write the final answer from the collected results.",
            "temperature": agent.configuration["temperature"],
        }
    return "Return result", {"action": "respond"}


def _connect(
    rng: random.Random, layers: list[list[int]], types: list[NodeType], ids: list[str]
) -> list[EdgeSeed]:
    targets: dict[int, list[int]] = {}
    for depth, layer in enumerate(layers[:-1]):
        following = layers[depth + 1]
        for index in layer:
            if types[index] is NodeType.DECISION:
                pool = following if len(following) >= 2 else following + layers[depth + 2]
                targets[index] = rng.sample(pool, min(len(pool), rng.choice((2, 2, 2, 3))))
            else:
                chosen = [rng.choice(following)]
                if len(following) > 1 and rng.random() < 0.15:  # a parallel fan-out
                    chosen.append(rng.choice([i for i in following if i != chosen[0]]))
                targets[index] = chosen
        reached = {target for index in layer for target in targets[index]}
        for orphan in following:
            if orphan not in reached:
                targets[rng.choice(layer)].append(orphan)
    edges: list[EdgeSeed] = []
    for source, its_targets in targets.items():
        conditions: list[str | None] = [None] * len(its_targets)
        if types[source] is NodeType.DECISION:
            conditions = list(_conditions(rng, len(its_targets)))
        edges.extend(
            EdgeSeed(ids[source], ids[target], condition)
            for target, condition in zip(its_targets, conditions, strict=True)
        )
    return edges


def _conditions(rng: random.Random, branches: int) -> tuple[str, ...]:
    fitting = [c for c in CONDITIONS if len(c) == branches]
    if fitting:
        return rng.choice(fitting)
    return (*(f"route == {number}" for number in range(1, branches)), "else")
