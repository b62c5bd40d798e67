"""`flowgate doctor --repair` while the gateway serves: executions start, step and finish
all along, and doctor runs again and again. It must destroy nothing a writer is creating
and report nothing that is merely in flight."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from flowgate import doctor
from models.documents import ExecutionTrace
from models.sql import Execution
from resolvers.ids import parse_id
from tests.scratch import Scratch
from tests.test_execution_lifecycle import FINISH, START, STEP, events_of

WRITERS = 6
STEPS = 4
RETRIES = 5


async def _engine_call(scratch: Scratch, query: str, variables: dict[str, Any]) -> Any:
    """What an engine does: retry with the same idempotency key while a store is busy (a
    doctor's full scan can hold the embedded document store longer than the timeout)."""
    for _ in range(RETRIES):
        response = await scratch.client.post(
            "/graphql", json={"query": query, "variables": variables}
        )
        body = response.json()
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
        if codes <= {"STORE_UNAVAILABLE"} and codes:
            continue
        assert "errors" not in body, body
        return next(iter(body["data"].values()))
    raise AssertionError(f"still unavailable after {RETRIES} tries")


async def _run_one(scratch: Scratch, agent_id: str) -> str:
    started = await _engine_call(
        scratch, START, {"agentId": agent_id, "key": f"start-{uuid.uuid4()}"}
    )
    execution_id: str = started["execution"]["id"]
    for index in range(STEPS):
        node = {"nodeId": f"n{index}", "status": "SUCCEEDED", "nodeType": "ACTION", "tokens": 1}
        await _engine_call(
            scratch, STEP, {"id": execution_id, "step": node, "key": f"step-{uuid.uuid4()}"}
        )
    await _engine_call(
        scratch,
        FINISH,
        {"id": execution_id, "status": "SUCCEEDED", "key": f"end-{uuid.uuid4()}"},
    )
    return execution_id


async def test_doctor_repair_under_load_loses_nothing_and_reports_nothing(
    scratch: Scratch,
) -> None:
    # given: writers running executions from start to finish, one after another
    agent_id = await scratch.create_agent("under-doctor")
    done: list[str] = []
    stop = asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            done.append(await _run_one(scratch, agent_id))

    writers = [asyncio.create_task(writer()) for _ in range(WRITERS)]

    # when: doctor repairs, again and again, meanwhile
    reports = []
    try:
        for _ in range(4):
            reports.append(await doctor.examine(scratch.services, repair=True))
    finally:
        stop.set()
        await asyncio.gather(*writers)

    # then: nothing reported about what was being written ...
    mine = {str(parse_id(execution_id, "Execution")) for execution_id in done}
    agent = str(parse_id(agent_id, "Agent"))
    findings = [
        finding
        for report in reports
        for finding in report.findings
        if finding.object_id in mine or finding.object_id == agent
    ]
    # The one true finding load can cause: a request whose own delivery failed (the embedded
    # document store busy with doctor's full scan past the timeout) left its events in the
    # outbox two seconds later; doctor then delivered them. Nothing else, nothing unrepaired.
    assert [(f.kind, f.repaired) for f in findings if f.kind != "undelivered events"] == []
    assert all(f.repaired for f in findings), findings
    assert len(done) >= WRITERS
    # ... and every execution complete in both stores: log gap-free to the row's last
    # event, the trace at it with every step
    async with scratch.services.postgres.session() as session:
        rows = {
            row.id: row
            for row in await session.scalars(
                select(Execution).where(Execution.agent_id == parse_id(agent_id, "Agent"))
            )
        }
    assert len(rows) == len(done)
    for execution_id in done:
        local = parse_id(execution_id, "Execution")
        seqs = [event.seq for event in await events_of(execution_id)]
        assert seqs == list(range(1, rows[local].last_event_seq + 1)), execution_id
        trace = await ExecutionTrace.find_one({"execution_id": local})
        assert trace is not None and trace.applied_seq == rows[local].last_event_seq
        assert len(trace.steps) == STEPS
    # and the final doctor pass, at rest, agrees
    after = await doctor.examine(scratch.services, repair=False)
    assert [f for f in after.findings if f.object_id in mine] == []
    assert uuid.UUID(agent)
