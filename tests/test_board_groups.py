"""A rendered group's members under backpressure, on the real schema, stores and bus: a
member that does not read gets an execution's latest progress in place of the merged
ones and every status change; one that falls too far behind on status changes ends with
SLOW_CONSUMER, and neither slows the group or the others."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from flowgate.services import Services
from flowgate.sockets.grouped import follow
from flowgate.sockets.grouping import Plan
from flowgate.sockets.groups import Member, Rendered, RenderGroups
from flowgate.stores.roundtrips import start_counting
from resolvers.context import Context
from schema import schema
from tests.auth import ADMIN, api_key_for
from tests.scratch import Scratch, gql
from tests.test_board import STATE, run_execution, wait_for_hub

BOARD = """
subscription($a: [ID!]) {
  executionUpdates(filter: {agentIds: $a}, progress: true) {
    id kind status cost tokens progress { nodesDone }
  }
}
"""


async def _context(app: FastAPI) -> Context:
    """An admin's context on the app's services (its bus feeds the hub the tests watch)."""
    services: Services = app.state.services
    _, principal = await api_key_for(services, ADMIN, "groups")
    return Context(services, app.state.guards, principal, start_counting())


def _items(rendered: list[Rendered]) -> list[dict[str, Any]]:
    items = []
    for item in rendered:
        payload = json.loads(item.payload)
        assert not payload.get("errors"), payload
        items.append(payload["data"]["executionUpdates"])
    return items


async def _read_until_done(items: AsyncIterator[Rendered], done: int, into: list[Rendered]) -> None:
    succeeded = 0
    async for item in items:
        assert not item.refused, item.errors
        into.append(item)
        if '"SUCCEEDED"' in item.payload and '"STATUS_CHANGED"' in item.payload:
            succeeded += 1
            if succeeded == done:
                return


async def test_a_member_that_does_not_read_gets_every_status_change_and_the_latest_progress(
    scratch: Scratch, services: Services, app: FastAPI
) -> None:
    # given: a group with a member that reads and one that does not read at all
    agent_id = await scratch.create_agent("slow-member")
    context = await _context(app)
    groups = RenderGroups(queue_limit=64)
    plan = Plan(key="slow", replay_last=False, response_key="executionUpdates")
    fast: list[Rendered] = []
    before = app.state.services.bus.hub.subscriber_count
    reader = asyncio.create_task(
        _read_until_done(
            follow(groups, plan, schema, context, (BOARD, {"a": [agent_id]}, None)), 2, fast
        )
    )
    await wait_for_hub(app, before)
    group, slow = groups.join("slow", _never, replay_last=False)

    # when: two executions run four steps each
    executions = [await run_execution(scratch, agent_id, steps=4) for _ in range(2)]
    await asyncio.wait_for(reader, 60)

    # then: the reader saw everything rendered; the other one every status change, in order,
    # with progress merged to (at most) one item per execution between them
    queued = _items(list(slow.queue))
    assert group.renders == len(fast)
    for execution_id in executions:
        mine = [item for item in queued if item["id"] == execution_id]
        statuses = [item["status"] for item in mine if item["kind"] == "STATUS_CHANGED"]
        assert statuses == ["PENDING", "RUNNING", "SUCCEEDED"]
        # the final state is exact: what the store says now
        now = (await gql(scratch.client, STATE, {"id": execution_id}))["execution"]
        assert (mine[-1]["cost"], mine[-1]["tokens"]) == (now["cost"], now["tokens"])
        assert mine[-1]["progress"]["nodesDone"] == now["progress"]["nodesDone"]
    progress_items = [item for item in queued if item["kind"] == "PROGRESS"]
    assert len(progress_items) <= len(executions)
    assert slow.merged > 0
    assert len(queued) + slow.merged == len(fast)
    assert not slow.overflowed
    group.leave(slow)


async def test_a_member_too_far_behind_on_status_changes_ends_with_slow_consumer(
    scratch: Scratch, services: Services, app: FastAPI
) -> None:
    # given: members with room for two unread items; one reads its first item, then stops
    agent_id = await scratch.create_agent("overflow")
    context = await _context(app)
    groups = RenderGroups(queue_limit=2)
    plan = Plan(key="overflow", replay_last=False, response_key="executionUpdates")
    request = (BOARD, {"a": [agent_id]}, None)
    before = app.state.services.bus.hub.subscriber_count
    fast: list[Rendered] = []
    reader = asyncio.create_task(
        _read_until_done(follow(groups, plan, schema, context, request), 2, fast)
    )
    await wait_for_hub(app, before)
    lagging = follow(groups, plan, schema, context, request)
    first = asyncio.create_task(anext(lagging))
    await asyncio.sleep(0.3)  # joined

    # when: two executions run, six status changes
    for _ in range(2):
        await run_execution(scratch, agent_id, steps=1)
    await asyncio.wait_for(reader, 60)

    # then: the one that read along got all; the other its first item, then a resumable error
    assert [i["status"] for i in _items(fast) if i["kind"] == "STATUS_CHANGED"].count(
        "SUCCEEDED"
    ) == 2
    assert '"PENDING"' in (await first).payload
    ending = json.loads((await anext(lagging)).payload)
    assert ending["data"] is None
    assert ending["errors"][0]["extensions"]["code"] == "SLOW_CONSUMER"
    assert ending["errors"][0]["path"] == ["executionUpdates"]
    await lagging.aclose()


async def _never() -> Any:
    raise AssertionError("the group was already running")


def test_a_member_merges_states_and_keeps_lifecycle_items() -> None:
    member = Member(limit=3)
    for payload, key, lifecycle in [
        ("p1", "x", False),
        ("s1", "x", True),
        ("p2", "x", False),
        ("q1", "y", False),
        ("p3", "x", False),
    ]:
        member.offer(Rendered(payload=payload, key=key, lifecycle=lifecycle))
    assert [item.payload for item in member.queue] == ["s1", "q1", "p3"]
    assert member.merged == 2
    member.offer(Rendered(payload="s2", key="y", lifecycle=True))
    assert member.overflowed


async def test_a_waiting_member_wakes_for_an_item_and_for_its_end_and_survives_a_timeout() -> None:
    # A member waits on a bare future it makes per wait (not an Event): an offer or the end
    # must wake it, and a wait given up (a timeout cancels it) must not lose later items.
    member = Member(limit=4)
    waiting = asyncio.create_task(member.next())
    await asyncio.sleep(0)
    assert not waiting.done()
    member.offer(Rendered(payload="s1"))
    first = await asyncio.wait_for(waiting, 1)
    assert first is not None and first.payload == "s1"

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(member.next(), 0.01)
    member.offer(Rendered(payload="s2"))
    second = await asyncio.wait_for(member.next(), 1)
    assert second is not None and second.payload == "s2"

    ending = asyncio.create_task(member.next())
    await asyncio.sleep(0)
    member.end()
    assert await asyncio.wait_for(ending, 1) is None
