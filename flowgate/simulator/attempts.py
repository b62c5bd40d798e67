"""One node of a simulated run, attempt by attempt: a log line per attempt, and a failed
attempt retried now and then, as far as the workflow's `maxRetries` allows (the gateway
refuses a retry past it with `RetriesExhausted`: the node has then failed)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from flowgate.simulator.logs import append_log
from flowgate.simulator.outcomes import Outcome, decide

if TYPE_CHECKING:
    from flowgate.simulator.catalog import Edge, Node
    from flowgate.simulator.engine import Run, Simulator


async def run_node(simulator: Simulator, run: Run, node: Node, next_edge: Edge | None) -> Outcome:
    from flowgate.simulator.engine import RefusedError

    rng, config = simulator.rng, simulator.config
    label = node.label or node.id
    outcome = decide(rng, node, run.target.profile, next_edge, config.failure_rate)
    failed = outcome  # the last failed attempt, once there is one
    attempt = 1
    while True:
        # The type lets a workflow report nodes that are not in its agent's flowchart.
        started = {"nodeId": node.id, "nodeType": node.type, "status": "STARTED"}
        try:
            await simulator.report(run, {**started, "input": outcome.input})
        except RefusedError as refused:
            if attempt == 1 or refused.code != "RETRIES_EXHAUSTED":
                raise
            return failed  # no retry left: the node failed as it last did
        line = f"{label}: attempt {attempt}"
        await append_log(simulator.gateway, run.execution_id, "INFO", line, node_id=node.id)
        await asyncio.sleep(outcome.duration_ms / 1000 * config.time_scale)
        await simulator.report(run, {**outcome.step(node.id), "nodeType": node.type})
        run.steps.append(node.id)  # each attempt is a step of its own in the trace
        if (
            outcome.status != "FAILED"
            or attempt >= config.max_attempts
            or rng.random() >= config.retry_share
        ):
            return outcome
        line = f"{label} failed ({outcome.error}); retrying"
        await append_log(simulator.gateway, run.execution_id, "WARNING", line, node_id=node.id)
        failed = outcome
        outcome = decide(rng, node, run.target.profile, next_edge, config.failure_rate)
        attempt += 1
