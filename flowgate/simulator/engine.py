"""The simulated engine: starts executions now and then and walks each one's graph node by
node, reporting every step through the lifecycle mutations, as a real engine would."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from flowgate.simulator import approvals
from flowgate.simulator.attempts import run_node
from flowgate.simulator.catalog import Edge, Node, Target, load_targets
from flowgate.simulator.gateway import Gateway, GatewayError
from flowgate.simulator.operations import CANCEL, FINISH, START, STEP
from flowgate.simulator.outcomes import Outcome, decide, execution_input

log = structlog.get_logger(__name__)

# What an execution becomes when the gateway refuses a call for it: ended by someone else.
ENDED_ELSEWHERE = "ENDED_ELSEWHERE"


@dataclass(frozen=True)
class SimulatorConfig:
    interval: float = 4.0  # mean seconds between two starts (jittered by +-50%)
    concurrency: int = 3  # executions in flight at most
    time_scale: float = 1.0  # multiplies every step's nominal 0.3-2 s
    failure_rate: float = 0.05  # per step (weighted by node type); fails the execution
    cancel_rate: float = 0.03  # per execution: cancelled by a "user" after a few steps
    workflow_share: float = 0.25  # of starts that run a workflow rather than an agent
    max_steps: int = 50  # a walk round a loop ends failed after this many steps
    # Of the human nodes reached, the share that asks a person (`requestApproval`) and waits
    # for the decision; the others pass on their own. Undecided, an approval expires after
    # `approval_seconds`, and the gateway fails the run (or, at a node that continues on
    # rejection, resumes it: the simulator goes on as after a rejection).
    approval_share: float = 0.0
    approval_seconds: int = 600
    max_attempts: int = 2  # tries at a node: a failed one is retried once, now and then
    retry_share: float = 0.7  # of failed attempts that are retried (if attempts are left)
    catalog_ttl: float = 60.0  # seconds before the agents and workflows are read again
    seed: int | None = None


@dataclass
class Run:
    """One execution the simulator started, as it sees it."""

    execution_id: str
    target: Target
    # Node ids of the attempts that ended, in order (a retried node is there once per try).
    steps: list[str] = field(default_factory=list)
    current: str | None = None  # the node being run (its STARTED sent or being sent)
    # SUCCEEDED, FAILED, CANCELLED, ENDED_ELSEWHERE; None while it runs.
    status: str | None = None


class RefusedError(Exception):
    def __init__(self, operation: str, answer: dict[str, Any]) -> None:
        self.code = answer.get("code")
        super().__init__(f"{operation}: {answer['__typename']}: {answer.get('message')}")


class Simulator:
    """Give it an `httpx.AsyncClient` whose base URL is the gateway (the demo's own port, or
    an ASGI transport in tests). `run()` runs until cancelled or until `max_executions`
    have ended; `start()`/`stop()` run it in the background. `tag`: see `Gateway`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: SimulatorConfig | None = None,
        *,
        path: str = "/graphql",
        tag: str | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.gateway = Gateway(http, path=path, tag=tag)
        self.runs: list[Run] = []
        self._rng = random.Random(self.config.seed)
        self._targets: list[Target] = []
        self._loaded_at: float | None = None
        self._task: asyncio.Task[list[Run]] | None = None
        self._me: str | None = None  # the engine's user: who approves when a node names none

    @property
    def rng(self) -> random.Random:
        """The run's random source: one, so that a seed replays the same runs."""
        return self._rng

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="flowgate-simulator")

    async def stop(self, *, grace: float = 3.0) -> None:
        """Stop starting and walking; cancel the executions still open, through the API
        (the gateway must still be serving), giving up quietly after `grace` seconds."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        still_open = [run for run in self.runs if run.status is None]
        if still_open:
            reason = "the simulated engine stopped"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.gather(
                        *(self._cancel(run, reason) for run in still_open),
                        return_exceptions=True,
                    )

    async def run(self, max_executions: int | None = None) -> list[Run]:
        config = self.config
        slots = asyncio.Semaphore(config.concurrency)
        walkers: set[asyncio.Task[None]] = set()

        def done(walker: asyncio.Task[None]) -> None:
            walkers.discard(walker)
            slots.release()

        await self.gateway.wait_until_ready()
        try:
            started = 0
            while max_executions is None or started < max_executions:
                await slots.acquire()
                target = await self._pick()
                if target is None:
                    slots.release()
                    await asyncio.sleep(config.interval)
                    continue
                started += 1
                walker = asyncio.create_task(self._execute(target))
                walkers.add(walker)
                walker.add_done_callback(done)
                if max_executions is None or started < max_executions:
                    await asyncio.sleep(config.interval * self._rng.uniform(0.5, 1.5))
            while walkers:
                await asyncio.gather(*walkers)
        finally:
            for walker in walkers:
                walker.cancel()
            await asyncio.gather(*walkers, return_exceptions=True)
        return self.runs

    async def _pick(self) -> Target | None:
        now = asyncio.get_running_loop().time()
        if self._loaded_at is None or now - self._loaded_at > self.config.catalog_ttl:
            try:
                self._targets = await load_targets(self.gateway)
            except (GatewayError, httpx.TransportError) as error:
                log.warning("simulator could not read the agents", error=str(error))
                return None
            self._loaded_at = now
            if not self._targets:
                log.warning("simulator has nothing to run: no active agent has a flowchart")
        agents = [target for target in self._targets if target.kind == "agent"]
        workflows = [target for target in self._targets if target.kind == "workflow"]
        if workflows and (not agents or self._rng.random() < self.config.workflow_share):
            return self._rng.choice(workflows)
        return self._rng.choice(agents) if agents else None

    async def _execute(self, target: Target) -> None:
        run: Run | None = None
        try:
            run = await self._begin(target)
            if run is not None:
                await self._walk(run)
        except RefusedError as refused:
            if run is None:
                return
            if refused.code in {"INVALID_TRANSITION", "NOT_FOUND"}:
                run.status = ENDED_ELSEWHERE
                log.info("execution ended elsewhere", execution=run.execution_id, why=str(refused))
            else:
                log.warning("gateway refused a step", execution=run.execution_id, why=str(refused))
                with contextlib.suppress(RefusedError, GatewayError, httpx.TransportError):
                    await self._cancel(run, f"the gateway refused a step: {refused}")
        except (GatewayError, httpx.TransportError) as error:
            where = run.execution_id if run else target.name
            log.warning("simulated execution abandoned", execution=where, error=str(error))

    async def _begin(self, target: Target) -> Run | None:
        variables: dict[str, Any] = {"input": execution_input(self._rng)}
        variables["agentId" if target.kind == "agent" else "workflowId"] = target.id
        answer = await self.gateway.mutate("startExecution", START, variables)
        if answer["__typename"] != "StartExecutionPayload":
            if answer.get("code") != "CONCURRENCY_LIMIT_REACHED":  # full, not gone
                self._loaded_at = None  # the agent may be gone: read the catalog again
            log.warning("execution not started", name=target.name, why=answer.get("message"))
            return None
        run = Run(answer["execution"]["id"], target)
        self.runs.append(run)
        log.info(
            "execution started",
            execution=run.execution_id,
            kind=target.kind,
            name=target.name,
            provider=target.profile.provider,
        )
        return run

    async def _walk(self, run: Run) -> None:
        rng, config, graph = self._rng, self.config, run.target.graph
        cancel_at = rng.randint(1, 4) if rng.random() < config.cancel_rate else None
        node = graph.nodes[graph.entry]
        for index in range(config.max_steps):
            if index == cancel_at:
                await self._cancel(run, "cancelled by a user (simulated)")
                return
            outgoing = graph.outgoing.get(node.id, [])
            # At a decision, one branch by its condition; elsewhere, one of the next nodes.
            next_edge = rng.choice(outgoing) if outgoing else None
            if node.type == "HUMAN" and rng.random() < config.approval_share:
                asked = await self._ask_people(run, node, next_edge)
                if asked is None:
                    return
                outcome = asked
            else:
                outcome = await self._run_node(run, node, next_edge)
            if outcome.status == "FAILED":
                await self._end(run, "FAILED", error=f"{node.label or node.id}: {outcome.error}")
                return
            if next_edge is None:
                result = {"summary": f"{run.target.name}: done", "steps": len(run.steps)}
                await self._end(run, "SUCCEEDED", result=result)
                return
            node = graph.nodes[next_edge.target]
        await self._end(run, "FAILED", error=f"stopped after {config.max_steps} steps (a loop?)")

    async def _wait_for_people(self, run: Run, node: Node) -> dict[str, Any] | None:
        """Ask for an approval at `node` and wait; the human step's output, or `None` when
        the run ended (rejected, cancelled, or expired undecided)."""
        if self._me is None:
            self._me = await approvals.who_am_i(self.gateway)
        try:
            verdict, approval = await approvals.ask_and_wait(
                self.gateway, run.execution_id, node, self._me, self.config.approval_seconds
            )
        except approvals.RefusedApprovalError as refused:
            raise RefusedError("requestApproval", {"__typename": "Refused", "code": refused.code,
                                                    "message": str(refused)}) from None  # fmt: skip
        log.info("approval decided", execution=run.execution_id, node=node.id, verdict=verdict)
        if verdict is approvals.Verdict.EXPIRED and node.data.get("onReject") != "continue":
            # The gateway acts on an expiry as the node acts on a rejection: it fails the run.
            run.status = ENDED_ELSEWHERE
            return None
        if verdict is approvals.Verdict.ENDED:
            run.status = ENDED_ELSEWHERE
            return None
        return {"decision": verdict.value, "approvalId": approval.get("id")}

    async def _run_node(self, run: Run, node: Node, next_edge: Edge | None) -> Outcome:
        run.current = node.id
        # Not reset if it is cancelled mid-step: the stop reports what was running.
        outcome = await run_node(self, run, node, next_edge)
        run.current = None
        return outcome

    async def _ask_people(self, run: Run, node: Node, next_edge: Edge | None) -> Outcome | None:
        """A human node where a person decides; `None` when the run ended meanwhile."""
        outcome = decide(self._rng, node, run.target.profile, next_edge, self.config.failure_rate)
        run.current = node.id
        started = {"nodeId": node.id, "nodeType": node.type, "status": "STARTED"}
        await self.report(run, {**started, "input": outcome.input})
        decided = await self._wait_for_people(run, node)
        if decided is None:
            return None
        ended = {"nodeId": node.id, "status": "SUCCEEDED", "output": decided}
        await self.report(run, {**ended, "nodeType": node.type})
        run.steps.append(node.id)
        run.current = None
        outcome.status = "SUCCEEDED"
        return outcome

    async def report(self, run: Run, step: dict[str, Any]) -> None:
        variables = {"id": run.execution_id, "step": step}
        answer = await self.gateway.mutate("reportExecutionStep", STEP, variables)
        if answer["__typename"] != "ReportExecutionStepPayload":
            raise RefusedError("reportExecutionStep", answer)

    async def _end(
        self,
        run: Run,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        variables = {"id": run.execution_id, "status": status, "result": result, "error": error}
        answer = await self.gateway.mutate("finishExecution", FINISH, variables)
        self._ended(run, "finishExecution", answer, error)

    async def _cancel(self, run: Run, reason: str) -> None:
        variables = {"id": run.execution_id, "reason": reason}
        answer = await self.gateway.mutate("cancelExecution", CANCEL, variables)
        self._ended(run, "cancelExecution", answer, reason)

    def _ended(self, run: Run, operation: str, answer: dict[str, Any], why: str | None) -> None:
        if answer["__typename"] != "FinishExecutionPayload":
            raise RefusedError(operation, answer)
        execution = answer["execution"]
        run.status = execution["status"]
        log.info(
            "execution finished",
            execution=run.execution_id,
            status=run.status,
            name=run.target.name,
            steps=len(run.steps),
            duration_ms=execution["durationMs"],
            tokens=int(execution["tokens"]),
            cost=round(execution["cost"], 4),
            **({"why": why} if why else {}),
        )
