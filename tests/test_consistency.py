"""A failure between the PostgreSQL and the MongoDB write, and the two ways back to one
truth: the engine's retry with its idempotency key, and `flowgate doctor`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.errors import AutoReconnect

from flowgate import doctor
from flowgate.services import Services
from models.documents import ExecutionEvent, ExecutionTrace
from resolvers.ids import parse_id
from resolvers.lifecycle import outbox
from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import STEP, start

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.fixture
async def scratch(
    services: Services, app: FastAPI, client: httpx.AsyncClient
) -> AsyncIterator[Scratch]:
    async with Scratch.open(services, app, client) as scratch:
        yield scratch


async def _report_step(scratch: Scratch, execution_id: str, key: str) -> dict[str, Any]:
    variables = {
        "id": execution_id,
        "step": {"nodeId": "a", "status": "SUCCEEDED", "nodeType": "ACTION", "tokens": 7},
        "key": key,
    }
    result: dict[str, Any] = (await gql(scratch.client, STEP, variables))["reportExecutionStep"]
    return result


async def _log(execution_id: str) -> list[int]:
    events = (
        await ExecutionEvent.find({"execution_id": parse_id(execution_id, "Execution")})
        .sort("seq")
        .to_list()
    )
    return [event.seq for event in events]


async def test_a_retry_delivers_what_a_failed_write_left_behind(
    scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: MongoDB fails while a step is reported
    agent_id = await scratch.create_agent("retried")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    key = f"step-{uuid.uuid4()}"

    async def unreachable(entry: Any) -> Any:
        raise AutoReconnect("injected")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", unreachable)
        first = await _report_step(scratch, execution_id, key)
    # the change is committed, the log is behind
    assert first["__typename"] == "ReportExecutionStepPayload"
    assert await _log(execution_id) == [1]
    found = await doctor.examine(scratch.services, repair=False)
    assert any(f.object_id == str(parse_id(execution_id, "Execution")) for f in found.findings)

    # when: the engine retries with the same key, MongoDB back
    again = await _report_step(scratch, execution_id, key)

    # then: the same answer, the log complete and gap-free, the step applied once
    assert again["eventSeq"] == first["eventSeq"]
    assert await _log(execution_id) == [1, 2, 3, 4]
    trace = await ExecutionTrace.find_one({"execution_id": parse_id(execution_id, "Execution")})
    assert trace is not None
    assert [s.node_id for s in trace.steps] == ["a"]
    assert again["execution"]["tokens"] == 7


async def test_doctor_repairs_what_a_failed_write_left_behind(
    scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an execution started and stepped while MongoDB was failing
    agent_id = await scratch.create_agent("doctored")

    async def unreachable(entry: Any) -> Any:
        raise AutoReconnect("injected")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", unreachable)
        execution_id = (await start(scratch, agent_id))["execution"]["id"]
        await _report_step(scratch, execution_id, f"k-{uuid.uuid4()}")
    assert await _log(execution_id) == []
    before = await doctor.examine(scratch.services, repair=False)
    assert {f.kind for f in before.unrepaired} >= {"undelivered events"}

    # when
    repaired = await doctor.examine(scratch.services, repair=True)
    after = await doctor.examine(scratch.services, repair=False)

    # then: delivered, and the stores agree
    assert repaired.findings
    assert await _log(execution_id) == [1, 2, 3, 4]
    assert after.findings == []


async def test_doctor_finds_and_removes_orphans(scratch: Scratch) -> None:
    # given: a trace and events of an execution that does not exist, and a flowchart of an
    # agent that does not exist
    ghost = uuid.uuid4()
    await ExecutionTrace(organization_id=scratch.organization_id, execution_id=ghost).insert()
    await ExecutionEvent(
        organization_id=scratch.organization_id,
        execution_id=ghost,
        seq=1,
        type="status_changed",  # type: ignore[arg-type]
    ).insert()

    # when
    found = await doctor.examine(scratch.services, repair=False)
    await doctor.examine(scratch.services, repair=True)
    after = await doctor.examine(scratch.services, repair=False)

    # then
    assert ("trace without execution", str(ghost)) in {
        (f.kind, f.object_id) for f in found.findings
    }
    assert after.findings == []
    assert await ExecutionTrace.find_one({"execution_id": ghost}) is None
    assert await ExecutionEvent.find({"execution_id": ghost}).count() == 0


async def test_the_background_relay_delivers_without_waiting_for_a_retry(
    scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a step committed while MongoDB was failing
    import asyncio

    from resolvers.lifecycle.relay import running_relay

    agent_id = await scratch.create_agent("relayed")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]

    async def unreachable(entry: Any) -> Any:
        raise AutoReconnect("injected")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", unreachable)
        await _report_step(scratch, execution_id, f"k-{uuid.uuid4()}")
    assert await _log(execution_id) == [1]

    # when: the relay runs (as it does in every gateway), and nobody retries
    async with running_relay(scratch.services, interval=0.05):
        for _ in range(100):
            if await _log(execution_id) == [1, 2, 3, 4]:
                break
            await asyncio.sleep(0.05)

    # then
    assert await _log(execution_id) == [1, 2, 3, 4]
