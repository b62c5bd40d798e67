"""The board (`executionUpdates`) says how many approvals a run waits for: asking one pauses
the run and deciding it moves the run on, so each change reaches the board as a status
change carrying the count as of then."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from flowgate.services import Services
from tests.approvals import DECIDE, STEP, Flow, flow, user_gid
from tests.auth import ADMIN, AsClient, client_as
from tests.scratch import Scratch
from tests.test_board import wait_for_hub
from tests.test_subscriptions import Live, live
from tests.ws import connect

__all__ = ["live"]  # the fixture, shared with tests.test_subscriptions

BOARD = """
subscription Board($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter) { id kind status approvalsWaiting }
}
"""


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Flow]:
    async with flow(scratch) as built:
        yield built


@pytest.fixture
async def admin(app: FastAPI, services: Services) -> AsyncIterator[AsClient]:
    async with client_as(app, services, ADMIN) as member:
        yield member


async def _board_until(
    live: Live, agent_id: str, statuses: list[str], paused: asyncio.Event
) -> list[dict[str, Any]]:
    """The board's status changes for `agent_id` until it has seen `statuses` in order;
    `paused` is set once a PAUSED item has arrived."""
    received: list[dict[str, Any]] = []
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(BOARD, {"filter": {"agentIds": [agent_id]}})
        async for payload in ws.results(operation):
            item = payload["data"]["executionUpdates"]
            received.append(item)
            if item["status"] == "PAUSED":
                paused.set()
            if [each["status"] for each in received] == statuses:
                return received
    return received


async def test_the_board_counts_the_approvals_a_run_waits_for(
    made: Flow, admin: AsClient, live: Live, app: FastAPI
) -> None:
    # given: a running run and a board on its agent
    workflow = await made.workflow({"isPublic": False, "viewerIds": []})
    execution = await made.start(workflow)
    before = app.state.services.bus.hub.subscriber_count
    expected = ["RUNNING", "PAUSED", "RUNNING"]
    paused = asyncio.Event()
    board = asyncio.create_task(_board_until(live, made.agent_id, expected, paused))
    await wait_for_hub(app, before)
    await made.run(STEP, id=execution, node="run", status="STARTED")

    # when: the engine asks the admin, and the admin approves once the board shows the pause
    approval = await made.request(execution, [user_gid(admin)])
    # (an item is rendered when it arrives: deciding only after the PAUSED one has come
    # makes its count the count while paused)
    await asyncio.wait_for(paused.wait(), 30)
    decided = await admin.post(DECIDE, {"id": approval, "decision": "APPROVE"})
    assert decided["data"]["decideApproval"]["__typename"] == "ApprovalPayload", decided
    received = await asyncio.wait_for(board, 60)

    # then: one approval waited while the run was paused, none before or after
    assert [(item["status"], item["approvalsWaiting"]) for item in received] == [
        ("RUNNING", 0),
        ("PAUSED", 1),
        ("RUNNING", 0),
    ]
    assert {item["id"] for item in received} == {execution}
