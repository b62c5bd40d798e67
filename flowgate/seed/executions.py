"""Thirty days of executions: busier on weekdays and in working hours, spread over agents by
their popularity, about 80% succeeded, 12% failed, some cancelled, and a few live ones
(running, paused at a human step, pending) in the minutes before the anchor."""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from datetime import datetime
from typing import Any

from flowgate.seed.entities import AgentSeed, UserSeed, WorkflowSeed, new_id, shift
from flowgate.seed.graph import FlowchartSeed
from flowgate.seed.runs import ExecutionSeed, StepSeed
from flowgate.seed.steps import rebase, run_steps, walk
from flowgate.seed.timeline import Timeline
from flowgate.seed.vocabulary import CATEGORY_PHRASES, INPUT_FIELDS
from models.enums import AgentStatus, ExecutionStatus, NodeType, UserRole, WorkflowStatus

LIVE_WINDOW_MS = (5_000, 30 * 60_000)  # live executions began this long before the anchor
FINISHED_WEIGHTS = {
    ExecutionStatus.SUCCEEDED: 0.815,
    ExecutionStatus.FAILED: 0.12,
    ExecutionStatus.CANCELLED: 0.065,
}
# The live runs take these statuses in turn, so that even the small set has each of them.
LIVE_STATUSES = (
    ExecutionStatus.RUNNING,
    ExecutionStatus.PENDING,
    ExecutionStatus.PAUSED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.PENDING,
)
WORKFLOW_SHARE = 0.33  # some draws hit archived workflows: about 30% end up linked
IDEMPOTENCY_SHARE = 0.25  # started by an engine that retries with a key


class _Picker:
    """Weighted choice in O(log n), for drawing tens of thousands of times."""

    def __init__(self, items: list[Any], weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        point = rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, point)]


class _Pools:
    """Who runs: agents by popularity (only active ones for live runs), workflows by
    weight, and the people allowed to start a run in each organization."""

    def __init__(
        self, agents: list[AgentSeed], workflows: list[WorkflowSeed], users: list[UserSeed]
    ) -> None:
        self.any_agent = _Picker(agents, [a.popularity for a in agents])
        ready = [a for a in agents if a.status is AgentStatus.ACTIVE]
        self.ready_agent = _Picker(ready, [a.popularity for a in ready])
        runnable = [w for w in workflows if w.status is not WorkflowStatus.DRAFT]
        self.workflow = _Picker(runnable, [w.weight for w in runnable])
        self.starters: dict[uuid.UUID, list[UserSeed]] = {}
        for user in users:
            if user.role is not UserRole.VIEWER:
                self.starters.setdefault(user.organization_id, []).append(user)

    def runner(
        self, rng: random.Random, share: float, *, live: bool
    ) -> tuple[AgentSeed, WorkflowSeed | None]:
        """The agent, and the workflow it ran for if any, of a run at `share` of the
        timeline (compared as a share, not a datetime: see `timeline`)."""
        if rng.random() < WORKFLOW_SHARE:
            workflow: WorkflowSeed = self.workflow.pick(rng)
            # An archived workflow ran only before it was archived.
            ran_then = workflow.status is not WorkflowStatus.ARCHIVED or (
                not live and share < workflow.ran_until
            )
            pool = [a for a in workflow.agents if not live or a.status is AgentStatus.ACTIVE]
            if ran_then and pool:
                return rng.choice(pool), workflow
        agent: AgentSeed = (self.ready_agent if live else self.any_agent).pick(rng)
        return agent, None


def build_executions(
    rng: random.Random,
    agents: list[AgentSeed],
    flowcharts: dict[uuid.UUID, FlowchartSeed],
    workflows: list[WorkflowSeed],
    users: list[UserSeed],
    *,
    count: int,
    timeline: Timeline,
) -> list[ExecutionSeed]:
    pools = _Pools(agents, workflows, users)
    live_from = count - max(len(LIVE_STATUSES), count // 500)
    executions = [
        _execution(
            rng,
            pools,
            flowcharts,
            timeline,
            live_status=LIVE_STATUSES[number % len(LIVE_STATUSES)] if number >= live_from else None,
        )
        for number in range(count)
    ]
    _update_agents(executions)
    return executions


def _execution(
    rng: random.Random,
    pools: _Pools,
    flowcharts: dict[uuid.UUID, FlowchartSeed],
    timeline: Timeline,
    *,
    live_status: ExecutionStatus | None,
) -> ExecutionSeed:
    """One run: finished at a moment of the timeline, or live (`live_status`) just now."""
    anchor = timeline.anchor
    live = live_status is not None
    if live_status is not None:
        status = live_status
    else:
        status = rng.choices(list(FINISHED_WEIGHTS), list(FINISHED_WEIGHTS.values()))[0]
    # A live run's start is placed once its steps are known.
    share = 1.0 if live else rng.random()
    started_at = timeline.anchor if live else timeline.moment(share)
    agent, workflow = pools.runner(rng, share, live=live)
    chart = flowcharts[agent.id]
    path = walk(rng, chart)
    if status is ExecutionStatus.PAUSED:  # paused means waiting at a human step
        for _ in range(20):
            if any(node.type is NodeType.HUMAN for node, _ in path):
                break
            path = walk(rng, chart)
        else:
            status = ExecutionStatus.RUNNING
    steps = run_steps(rng, agent, status, path, started_at)
    ended_at = _place_in_time(rng, steps, status, anchor, live=live)
    if steps:
        started_at = shift(steps[0].started_at, -rng.randint(5, 60))
    elif live:
        started_at = shift(anchor, -rng.randint(*LIVE_WINDOW_MS))
    succeeded = status is ExecutionStatus.SUCCEEDED
    engine_key = rng.random() < IDEMPOTENCY_SHARE
    return ExecutionSeed(
        id=new_id(rng),
        agent=agent,
        workflow_id=workflow.id if workflow else None,
        status=status,
        started_at=started_at,
        ended_at=ended_at,
        input=_input(rng, agent.category),
        result=_result(rng, agent.category) if succeeded else None,
        error=steps[-1].error if status is ExecutionStatus.FAILED else None,
        nodes_total=len(path),
        started_by_id=rng.choice(pools.starters[agent.organization_id]).id,
        idempotency_key=f"engine-{rng.getrandbits(64):016x}" if engine_key else None,
        steps=steps,
        variables={
            "attempt": 2 if rng.random() < 0.08 else 1,
            "locale": rng.choice(("en", "en", "en", "de", "fr", "ja")),
        },
    )


def _place_in_time(
    rng: random.Random,
    steps: list[StepSeed],
    status: ExecutionStatus,
    anchor: datetime,
    *,
    live: bool,
) -> datetime | None:
    """Shift the steps so that nothing happens after the anchor; return the end time."""
    if not steps:
        return None
    if live:  # the current step began a little while ago
        latest = steps[-1].started_at
        target = shift(anchor, -rng.randint(LIVE_WINDOW_MS[0], 5 * 60_000))
        rebase(steps, int((target - latest).total_seconds() * 1000))
        return None
    last = steps[-1]
    ended_at = shift(last.started_at, (last.duration_ms or 0) + rng.randint(5, 60))
    if status is ExecutionStatus.CANCELLED:  # cancelled while waiting for the next step
        ended_at = shift(ended_at, rng.randint(500, 120_000))
    overshoot = int((ended_at - shift(anchor, -1000)).total_seconds() * 1000)
    if overshoot > 0:
        rebase(steps, -overshoot)
        ended_at = shift(ended_at, -overshoot)
    return ended_at


def _input(rng: random.Random, category: str) -> dict[str, Any]:
    key, values = INPUT_FIELDS[category]
    return {
        key: rng.choice(values),
        "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
        "source": rng.choice(("api", "schedule", "ui", "webhook")),
    }


def _result(rng: random.Random, category: str) -> dict[str, Any]:
    _, audience, deliverable = CATEGORY_PHRASES[category]
    return {
        "summary": f"{deliverable.capitalize()} sent to {audience}",
        "confidence": round(rng.uniform(0.62, 0.99), 2),
        "items": rng.randint(1, 12),
    }


def _update_agents(executions: list[ExecutionSeed]) -> None:
    """Agents' counters match their executions; an agent with a live run is running."""
    for execution in executions:
        agent = execution.agent
        agent.execution_count += 1
        if agent.last_execution_at is None or execution.started_at > agent.last_execution_at:
            agent.last_execution_at = execution.started_at
        if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED):
            agent.status = AgentStatus.RUNNING
