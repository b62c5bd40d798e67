"""In-app notifications: who is told of a run's end and of an approval waiting on them,
written with the change that causes them, read and marked read by their recipient only,
and streamed live (resumably) by `notificationAdded`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from flowgate.services import Services
from models.documents import Workflow
from models.sql import Notification, User
from resolvers.cursors import decode_event
from resolvers.ids import from_global_id
from tests.auth import bearer
from tests.notifications import NOTIFICATIONS, Team
from tests.ws import connect

MARK = """
mutation($ids: [ID!], $all: Boolean! = false) {
  markNotificationsRead(ids: $ids, all: $all) {
    __typename
    ... on MarkNotificationsReadPayload { marked unreadCount }
    ... on ValidationError { issues { path code } }
  }
}
"""
ADDED = "subscription($after: String) { notificationAdded(after: $after) { id kind cursor } }"
ROUND_TRIPS = """
query { notifications(first: 50) { edges { node {
  id execution { id agent { id } } workflow { id name }
} } } }
"""


async def _count(services: Services, workflow_id: str) -> int:
    async with services.postgres.session() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Notification.workflow_id == from_global_id(workflow_id)[1]
                )
            )
            or 0
        )


async def test_a_failed_run_tells_the_owners_and_the_creator_only(team: Team) -> None:
    # given: the admin creates a workflow the user owns and the viewer may read
    workflow_id = await team.workflow("failing", owners=("user",), viewers=("viewer",))
    # when
    execution_id = await team.run(workflow_id, "FAILED")
    # then: the owner and the creator are told, with what and where; the viewer is not
    for role in ("user", "admin"):
        (told,) = await team.notifications(role)
        assert told["kind"] == "EXECUTION_FAILED"
        assert "the model refused" in told["message"]
        assert told["read"] is False and told["readAt"] is None
        assert told["execution"] == {"id": execution_id, "status": "FAILED"}
        assert told["workflow"]["id"] == workflow_id
        assert told["details"]["executionId"] == execution_id
        assert told["details"]["error"] == "the model refused"
    assert await team.notifications("viewer") == []


async def test_success_is_told_only_when_the_workflow_asks(team: Team) -> None:
    quiet = await team.workflow("quiet", owners=("user",))
    loud = await team.workflow("loud", owners=("user",), on_success=True, on_failure=False)
    # when
    await team.run(quiet, "SUCCEEDED")
    await team.run(loud, "SUCCEEDED")
    await team.run(loud, "FAILED")
    # then: one notification, of the success of the workflow that asks for successes
    told = await team.notifications("user")
    assert [(n["kind"], n["workflow"]["id"]) for n in told] == [("EXECUTION_SUCCEEDED", loud)]


async def test_cancelled_runs_and_runs_of_no_workflow_tell_nobody(team: Team) -> None:
    workflow_id = await team.workflow("cancelled", owners=("user",), on_success=True)
    execution_id = await team.start(workflow_id)
    cancelled = await team.scratch.client.post(
        "/graphql",
        json={"query": f'mutation {{ cancelExecution(executionId: "{execution_id}") '
              "{ __typename } }"},
    )  # fmt: skip
    assert cancelled.json()["data"]["cancelExecution"]["__typename"] == "FinishExecutionPayload"
    assert await _count(team.services, workflow_id) == 0


async def test_a_personal_preference_silences_failures(team: Team, services: Services) -> None:
    # given: the user turned failure notifications off for themselves
    user_id = team.members["user"].principal.user_id
    async with services.postgres.session() as session, session.begin():
        before = (await session.get(User, user_id)).preferences  # type: ignore[union-attr]
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(preferences={**before, "notifications": {"execution_failed": False}})
        )
    try:
        workflow_id = await team.workflow("silenced", owners=("user",))
        # when
        await team.run(workflow_id, "FAILED")
        # then: the admin (creator) is told, the user is not
        assert len(await team.notifications("admin")) == 1
        assert await team.notifications("user") == []
    finally:
        async with services.postgres.session() as session, session.begin():
            await session.execute(update(User).where(User.id == user_id).values(preferences=before))


async def test_a_refused_change_or_a_replay_writes_no_notification(team: Team) -> None:
    workflow_id = await team.workflow("once", owners=("user",))
    execution_id = await team.start(workflow_id)
    key = f"finish-{uuid.uuid4()}"
    # when: finished, retried with its key, then finished again without one
    assert (await team.finish(execution_id, "FAILED", key))["__typename"] == (
        "FinishExecutionPayload"
    )
    assert (await team.finish(execution_id, "FAILED", key))["__typename"] == (
        "FinishExecutionPayload"
    )
    refused = await team.finish(execution_id, "SUCCEEDED")
    # then: the transition is refused, and the one change wrote one notification per person
    assert refused["__typename"] == "InvalidTransition"
    assert await _count(team.services, workflow_id) == 2  # the user and the creator


async def test_approvals_tell_only_approvers_who_may_read_the_workflow(team: Team) -> None:
    # given: a private workflow the user owns; the viewer is not named in it
    workflow_id = await team.workflow("approval", owners=("user",), on_failure=False)
    execution_id = await team.start(workflow_id)
    people = {role: member.principal.user_id for role, member in team.members.items()}
    stranger = uuid.uuid4()  # no such user
    # when
    await team.request_approval(execution_id, [people["user"], people["viewer"], stranger])
    # then
    (told,) = await team.notifications("user")
    assert told["kind"] == "APPROVAL_REQUESTED"
    assert told["details"]["nodeId"] == "run" and told["details"]["message"] == "please check"
    assert "please check" in told["message"]
    assert await team.notifications("viewer") == []
    assert await team.notifications("admin") == []  # not an approver
    assert await _count(team.services, workflow_id) == 1


async def test_notifications_about_a_workflow_no_longer_readable_are_hidden(team: Team) -> None:
    workflow_id = await team.workflow("withdrawn", owners=("user",))
    await team.run(workflow_id, "FAILED")
    assert len(await team.notifications("user")) == 1
    # when: the user is no longer named in the workflow
    await Workflow.find_one({"_id": from_global_id(workflow_id)[1]}).update(
        {"$set": {"permissions.owners": []}}
    )
    # then: the notification is not shown, nor counted, nor markable
    assert await team.notifications("user") == []
    body = await team.members["user"].post(MARK, {"all": True})
    assert body["data"]["markNotificationsRead"]["marked"] == 0


async def test_unread_read_flow(team: Team) -> None:
    workflow_id = await team.workflow("inbox", owners=("user", "viewer"))
    for _ in range(3):
        await team.run(workflow_id, "FAILED")
    user = team.members["user"]
    told = await team.notifications("user")
    assert len(told) == 3 and all(not n["read"] for n in told)
    # newest first
    numbers = [decode_event(n["cursor"]) for n in told]  # "seq:10" < "seq:9" as text
    assert numbers == sorted(numbers, reverse=True)
    # when: one is marked read
    body = await user.post(MARK, {"ids": [told[0]["id"]]})
    marked = body["data"]["markNotificationsRead"]
    # then
    assert marked["__typename"] == "MarkNotificationsReadPayload" and marked["marked"] == 1
    assert [n["id"] for n in await team.notifications("user", unread=True)] == [
        n["id"] for n in told[1:]
    ]
    (read,) = [n for n in await team.notifications("user") if n["read"]]
    assert read["id"] == told[0]["id"] and read["readAt"] is not None
    # marking it again changes nothing
    again = await user.post(MARK, {"ids": [told[0]["id"]]})
    assert again["data"]["markNotificationsRead"]["marked"] == 0
    # another person's notification ids change nothing of theirs
    theirs = await team.notifications("viewer")
    foreign = await user.post(MARK, {"ids": [n["id"] for n in theirs]})
    assert foreign["data"]["markNotificationsRead"]["marked"] == 0
    assert all(not n["read"] for n in await team.notifications("viewer"))
    # when: all are marked read
    every = await user.post(MARK, {"all": True})
    assert every["data"]["markNotificationsRead"]["marked"] >= 2
    assert every["data"]["markNotificationsRead"]["unreadCount"] == 0
    assert await team.notifications("user", unread=True) == []


@pytest.mark.parametrize(
    ("variables", "path", "code"),
    [
        ({}, "ids", "REQUIRED"),
        ({"ids": ["x"], "all": True}, "ids", "REQUIRED"),
        ({"ids": ["not an id"]}, "ids[0]", "INVALID_ID"),
        ({"ids": ["QWdlbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"]}, "ids[0]", None),
        ({"ids": ["x"] * 101}, "ids", "TOO_MANY"),
    ],
)
async def test_marking_with_bad_input_is_a_validation_error(
    team: Team, variables: dict[str, Any], path: str, code: str | None
) -> None:
    body = await team.members["user"].post(MARK, variables)
    result = body["data"]["markNotificationsRead"]
    assert result["__typename"] == "ValidationError", result
    assert result["issues"][0]["path"] == path
    if code is not None:
        assert result["issues"][0]["code"] == code


async def test_paging_and_counting(team: Team) -> None:
    workflow_id = await team.workflow("pages", owners=("user",))
    for _ in range(3):
        await team.run(workflow_id, "FAILED")
    user = team.members["user"]
    first = (await user.post(NOTIFICATIONS, {"unread": True, "first": 2}))["data"]
    page = first["notifications"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    assert page["totalCount"] >= 3
    rest = await user.post(
        NOTIFICATIONS, {"unread": True, "first": 100, "after": page["pageInfo"]["endCursor"]}
    )
    seen = [e["node"]["id"] for e in page["edges"]] + [
        e["node"]["id"] for e in rest["data"]["notifications"]["edges"]
    ]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    bad = await user.post(NOTIFICATIONS, {"unread": False, "after": "garbage"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_round_trips_do_not_grow_with_the_notifications(team: Team) -> None:
    workflow_id = await team.workflow("trips", owners=("user",))
    user = team.members["user"]

    async def trips() -> tuple[int, int]:
        response = await user.http.post("/graphql", json={"query": ROUND_TRIPS})
        body = response.json()
        assert "errors" not in body, body["errors"]
        return len(body["data"]["notifications"]["edges"]), body["extensions"]["roundTrips"]

    await team.run(workflow_id, "FAILED")
    few, trips_few = await trips()
    for _ in range(3):
        await team.run(workflow_id, "FAILED")
    many, trips_many = await trips()
    assert many > few
    assert trips_many == trips_few


async def test_notification_added_is_live_and_resumes_from_a_cursor(
    team: Team, live_server: str
) -> None:
    workflow_id = await team.workflow("live", owners=("user",))
    user = team.members["user"]
    url = f"ws://{live_server}/graphql"
    received: list[dict[str, Any]] = []
    ready = asyncio.Event()

    async def watch(after: str | None, count: int, into: list[dict[str, Any]]) -> None:
        async with connect(url, bearer(user.secret)) as ws:
            operation = await ws.subscribe(ADDED, {"after": after})
            ready.set()
            async for payload in ws.results(operation):
                assert not payload.get("errors"), payload
                into.append(payload["data"]["notificationAdded"])
                if len(into) == count:
                    return

    # when: a run fails while the user watches
    watcher = asyncio.create_task(watch(None, 1, received))
    await ready.wait()
    await asyncio.sleep(0.3)  # the subscription is registered once its first read is done
    await team.run(workflow_id, "FAILED")
    await asyncio.wait_for(watcher, 15)
    # then
    (first,) = received
    assert first["kind"] == "EXECUTION_FAILED"
    # when: two more fail while nobody watches, and the user resumes after the first
    await team.run(workflow_id, "FAILED")
    await team.run(workflow_id, "FAILED")
    resumed: list[dict[str, Any]] = []
    await asyncio.wait_for(watch(first["cursor"], 2, resumed), 15)
    # then: exactly the two missed, in order
    listed = await team.notifications("user")
    assert [n["id"] for n in resumed] == [n["id"] for n in reversed(listed[:2])]
    assert first["id"] == listed[2]["id"]


async def test_notification_added_rejects_a_malformed_cursor(team: Team, live_server: str) -> None:
    async with connect(f"ws://{live_server}/graphql", bearer(team.members["user"].secret)) as ws:
        operation = await ws.subscribe(ADDED, {"after": "nonsense"})
        async for payload in ws.results(operation):
            assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            break
