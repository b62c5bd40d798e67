"""A client that stops reading: progress ticks coalesce, lifecycle events are kept, and past
the queue's limit the stream ends with a resumable error; memory stays bounded."""

from __future__ import annotations

from fastapi import FastAPI

from flowgate.bus.hub import Hub
from flowgate.bus.message import BusMessage
from flowgate.services import Services
from flowgate.stores.roundtrips import RoundTrips
from resolvers.context import Context
from schema import schema
from tests.auth import ADMIN, api_key_for
from tests.scratch import Scratch
from tests.test_execution_lifecycle import start, step

PROGRESS = """
subscription Progress($id: ID!, $after: String) {
  executionProgress(executionId: $id, after: $after) {
    ... on ExecutionEvent { cursor seq type }
  }
}
"""


def _message(seq: int, kind: str) -> BusMessage:
    return BusMessage.from_body(
        {
            "execution_id": "00000000-0000-0000-0000-000000000001",
            "organization_id": "00000000-0000-0000-0000-000000000002",
            "seq": seq,
            "type": kind,
        }
    )


def test_progress_ticks_coalesce_and_lifecycle_events_are_kept() -> None:
    # given
    hub = Hub(queue_limit=50)
    import uuid

    subscriber = hub.subscribe(execution_id=uuid.UUID(int=1))

    # when: a burst nobody reads
    for seq in range(1, 31):
        hub.dispatch(_message(seq, "progress" if seq % 3 else "step_finished"))

    # then: every lifecycle event, one (the latest) progress tick, and the rest remembered
    # as consumed so the stream does not mistake them for a gap
    kinds = [(m.seq, m.type) for m in subscriber.queue]
    assert [s for s, k in kinds if k == "step_finished"] == list(range(3, 31, 3))
    assert [s for s, k in kinds if k == "progress"] == [29]
    assert subscriber.coalesced == {s for s in range(1, 29) if s % 3}
    assert not subscriber.overflowed


def test_a_full_queue_of_lifecycle_events_overflows_and_stays_bounded() -> None:
    import uuid

    hub = Hub(queue_limit=10)
    subscriber = hub.subscribe(execution_id=uuid.UUID(int=1))

    for seq in range(1, 1001):
        hub.dispatch(_message(seq, "step_finished"))

    assert subscriber.overflowed
    assert len(subscriber.queue) == 0  # dropped on overflow: the log has it all


async def test_a_subscriber_that_stops_reading_ends_with_a_resumable_error(
    scratch: Scratch, app: FastAPI
) -> None:
    # given: a subscription that read one event, then stopped reading
    agent_id = await scratch.create_agent("slow")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    # The app's own services: its hub is the one its mutations publish to.
    services: Services = app.state.services
    _, admin = await api_key_for(services, ADMIN)
    context = Context(services, app.state.guards, admin, RoundTrips())
    # The session's app is shared with the worker's other modules: count only ours.
    others = services.bus.hub.subscriber_count
    stream = await schema.subscribe(
        PROGRESS, variable_values={"id": execution_id}, context_value=context
    )
    first = await stream.__anext__()  # type: ignore[union-attr]
    assert first.data["executionProgress"]["seq"] == 1
    limit = services.bus.hub.queue_limit

    # when: more lifecycle events than its queue holds happen meanwhile
    for index in range(limit + 5):
        await step(scratch, execution_id, f"n{index}", "SKIPPED")

    # then: the next read is an error that tells it where to resume
    result = await stream.__anext__()  # type: ignore[union-attr]
    assert result.errors
    error = result.errors[0]
    assert error.extensions["code"] == "SLOW_CONSUMER"
    assert error.extensions["resumeAfter"] == first.data["executionProgress"]["cursor"]
    await stream.aclose()  # type: ignore[union-attr]
    assert services.bus.hub.subscriber_count == others
