"""Running an agent's flowchart, on paper: a walk from the start node that picks one branch
at each decision, with a duration, tokens and a cost for each step. The execution's own
status decides where the walk stops (the failed step, the step still running, ...)."""

from __future__ import annotations

import math
import random
from datetime import datetime

from flowgate.seed.entities import AgentSeed, shift
from flowgate.seed.graph import EdgeSeed, FlowchartSeed, NodeSeed
from flowgate.seed.runs import StepSeed
from flowgate.seed.vocabulary import MODEL_PRICE_MICROS_PER_1K, STEP_ERRORS
from models.enums import ExecutionStatus, NodeType, StepStatus

# How likely each node type is to be the one that fails (AI calls and integrations, mostly).
FAILURE_WEIGHTS = {
    NodeType.AI: 4.0,
    NodeType.ACTION: 3.0,
    NodeType.HUMAN: 1.0,
    NodeType.DECISION: 0.2,
    NodeType.TIMER: 0.2,
}
TIMER_SKIP_SHARE = 0.1  # a timer whose window is already open is skipped
GAP_MS = (5, 60)  # the engine's own time between two steps


def walk(rng: random.Random, chart: FlowchartSeed) -> list[tuple[NodeSeed, EdgeSeed | None]]:
    """The path an execution takes: each node with the edge it leaves by (None at the end)."""
    path: list[tuple[NodeSeed, EdgeSeed | None]] = []
    node = chart.start
    while True:
        outgoing = chart.outgoing.get(node.id)
        if not outgoing:
            path.append((node, None))
            return path
        if node.type is NodeType.DECISION:  # the first branch is the usual case
            edge = rng.choices(outgoing, [3.0] + [1.0] * (len(outgoing) - 1))[0]
        else:
            edge = rng.choice(outgoing)
        path.append((node, edge))
        node = chart.by_id[edge.target]


def stop_index(
    rng: random.Random, status: ExecutionStatus, path: list[tuple[NodeSeed, EdgeSeed | None]]
) -> int:
    """The index of the last step that appears in the trace (the failed one, the running
    one, or the last one done), or -1 for none."""
    last = len(path) - 1
    match status:
        case ExecutionStatus.PENDING:
            return -1
        case ExecutionStatus.SUCCEEDED:
            return last
        case ExecutionStatus.FAILED:
            candidates = list(range(1, len(path)))
            weights = [FAILURE_WEIGHTS[path[i][0].type] for i in candidates]
            return rng.choices(candidates, weights)[0]
        case ExecutionStatus.CANCELLED:
            return rng.randint(0, last - 1)
        case ExecutionStatus.PAUSED:  # waiting for a person: the caller made sure there is one
            return next(i for i, (node, _) in enumerate(path) if node.type is NodeType.HUMAN)
        case _:
            return rng.randint(0, last)


def run_steps(
    rng: random.Random,
    agent: AgentSeed,
    status: ExecutionStatus,
    path: list[tuple[NodeSeed, EdgeSeed | None]],
    started_at: datetime,
) -> list[StepSeed]:
    last = stop_index(rng, status, path)
    steps: list[StepSeed] = []
    cursor = shift(started_at, rng.randint(*GAP_MS))
    for index in range(last + 1):
        node, edge = path[index]
        duration, tokens, cost = _measure(rng, node, agent)
        step = StepSeed(node, StepStatus.SUCCEEDED, cursor, duration, tokens, cost, branch=edge)
        if index == last and status is ExecutionStatus.FAILED:
            step.status = StepStatus.FAILED
            step.error = rng.choice(STEP_ERRORS[node.type.value]).format(
                provider=agent.provider, model=node.data.get("model", agent.model)
            )
            # A failed call is billed nothing and usually fails early.
            step.duration_ms = int(duration * rng.uniform(0.05, 0.8))
            step.tokens = step.cost_micros = 0
            step.branch = None
        elif index == last and status in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED):
            step.status = StepStatus.STARTED
            step.duration_ms = None
            step.tokens = step.cost_micros = 0
            step.branch = None
        elif node.type is NodeType.TIMER and rng.random() < TIMER_SKIP_SHARE:
            step.status = StepStatus.SKIPPED
            step.duration_ms = 0
        steps.append(step)
        if step.duration_ms is not None:
            cursor = shift(cursor, step.duration_ms + rng.randint(*GAP_MS))
    return steps


def _measure(  # noqa: PLR0911 - one return per node type reads best
    rng: random.Random, node: NodeSeed, agent: AgentSeed
) -> tuple[int, int, int]:
    """(duration in ms, tokens, cost in micro-dollars) of one step: lognormal durations,
    so most steps are quick and a few take minutes."""
    match node.type:
        case NodeType.AI:
            tokens = min(16_000, max(40, int(rng.lognormvariate(math.log(900), 0.8))))
            model = str(node.data.get("model", agent.model))
            cost = tokens * MODEL_PRICE_MICROS_PER_1K[model] // 1000
            return 300 + int(tokens * rng.uniform(1.5, 5.0)), tokens, cost
        case NodeType.HUMAN:
            timeout_ms = int(node.data.get("timeout_minutes", 60)) * 60_000
            return min(timeout_ms, int(rng.lognormvariate(math.log(45_000), 1.0))), 0, 0
        case NodeType.DECISION:
            return rng.randint(3, 60), 0, 0
        case NodeType.TIMER:
            delay = node.data.get("delay_seconds")
            if delay is None:  # a cron timer waits for its next tick
                return rng.randint(1_000, 60_000), 0, 0
            return int(delay) * 1000 + rng.randint(0, 200), 0, 0
        case _:
            if "agentId" in node.data:  # another agent's whole run
                return int(rng.lognormvariate(math.log(6_000), 0.7)), 0, 0
            return int(rng.lognormvariate(math.log(350), 0.8)), 0, 0


def rebase(steps: list[StepSeed], delta_ms: int) -> None:
    """Move a whole run in time (to end before the anchor, or to be live right now)."""
    for step in steps:
        step.started_at = shift(step.started_at, delta_ms)
