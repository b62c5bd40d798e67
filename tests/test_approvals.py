"""Approvals, pause and resume through real HTTP over real stores: the run's state, the
events (issue 17's payload contract), the inbox, the races, and every refusal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, update

from flowgate.services import Services
from models.documents import ExecutionEvent
from models.enums import UserRole
from models.sql import Approval, Execution, User
from resolvers.ids import from_global_id, to_global_id
from tests.approvals import (
    CANCEL,
    DECIDE,
    EXECUTION,
    INBOX,
    PAUSE,
    REQUEST,
    RESUME,
    STEP,
    Flow,
    flow,
    user_gid,
)
from tests.auth import (
    ADMIN,
    OTHER_ADMIN,
    USER,
    VIEWER,
    AsClient,
    client_as,
    error_codes,
    user_by_email,
)
from tests.scratch import Scratch


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Flow]:
    async with flow(scratch) as built:
        yield built


@pytest.fixture
async def user(app: FastAPI, services: Services) -> AsyncIterator[AsClient]:
    async with client_as(app, services, USER) as member:
        yield member


@pytest.fixture
async def viewer(app: FastAPI, services: Services) -> AsyncIterator[AsClient]:
    async with client_as(app, services, VIEWER) as member:
        yield member


@pytest.fixture
async def admin(app: FastAPI, services: Services) -> AsyncIterator[AsClient]:
    async with client_as(app, services, ADMIN) as member:
        yield member


def _result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"][field]
    return result


async def _events(execution_id: str) -> list[ExecutionEvent]:
    local = from_global_id(execution_id)[1]
    return await ExecutionEvent.find({"execution_id": local}).sort("seq").to_list()


async def _row(services: Services, execution_id: str) -> Execution:
    async with services.postgres.session() as session:
        row = await session.get(Execution, from_global_id(execution_id)[1])
    assert row is not None
    return row


async def _approval_count(services: Services, execution_id: str) -> int:
    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count()).where(Approval.execution_id == from_global_id(execution_id)[1])
        )
    return int(count or 0)


def _shared_with(*members: AsClient) -> dict[str, Any]:
    return {"isPublic": False, "viewerIds": [user_gid(m) for m in members]}


# --- the happy paths ----------------------------------------------------------------------


async def test_an_approval_pauses_the_run_and_approving_resumes_it(
    made: Flow, user: AsClient
) -> None:
    # given: a running run of a workflow the user may read
    workflow = await made.workflow(_shared_with(user))
    execution = await made.start(workflow)
    assert (await made.run(STEP, id=execution, node="run", status="STARTED"))[
        "reportExecutionStep"
    ]["execution"]["status"] == "RUNNING"

    # when: the engine asks the user at the human node
    answer = await made.run(
        REQUEST, id=execution, node="review", approvers=[user_gid(user)], message="Ship it?"
    )

    # then: the run waits, the approval is the user's to decide
    requested = answer["requestApproval"]
    assert requested["__typename"] == "ApprovalPayload", requested
    assert requested["execution"]["status"] == "PAUSED"
    assert requested["approval"]["status"] == "PENDING"
    assert requested["approval"]["approvers"] == [{"id": user_gid(user)}]
    approval_id = requested["approval"]["id"]
    inbox = _result(await user.post(INBOX), "pendingApprovals")
    assert approval_id in {edge["node"]["id"] for edge in inbox["edges"]}
    events = await _events(execution)
    asked = [e for e in events if e.type.value == "approval_requested"]
    assert [e.payload for e in asked] == [
        {"approvalId": str(from_global_id(approval_id)[1]), "nodeId": "review",
         "approvers": [str(user.principal.user_id)], "message": "Ship it?"}
    ]  # fmt: skip
    assert events[-2].status == "paused"

    # and: a step in flight reports its end, and the run stays paused
    ended = await made.run(STEP, id=execution, node="run", status="SUCCEEDED")
    assert ended["reportExecutionStep"]["execution"]["status"] == "PAUSED"

    # when: the user approves
    decided = _result(
        await user.post(DECIDE, {"id": approval_id, "decision": "APPROVE", "comment": "ok"}),
        "decideApproval",
    )

    # then: the run goes on; the decision is recorded once, with who and how long
    assert decided["__typename"] == "ApprovalPayload", decided
    assert decided["approval"]["status"] == "APPROVED"
    assert decided["approval"]["decidedBy"] == {"id": user_gid(user)}
    assert decided["approval"]["waitMs"] >= 0
    assert decided["execution"] == {"status": "RUNNING", "error": None, "humanInterventions": 1}
    last = (await _events(execution))[-2:]
    assert [e.type.value for e in last] == ["approval_decided", "status_changed"]
    assert last[0].payload == {
        "approvalId": str(from_global_id(approval_id)[1]),
        "decision": "approve",
        "decidedBy": str(user.principal.user_id),
    }
    assert last[1].status == "running"
    inbox = _result(await user.post(INBOX), "pendingApprovals")
    assert approval_id not in {edge["node"]["id"] for edge in inbox["edges"]}
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert [a["decision"] for a in shown["approvals"]] == ["APPROVE"]


async def test_reject_fails_the_run_unless_the_node_says_continue(
    made: Flow, user: AsClient
) -> None:
    # given: one workflow with the default rule, one whose human node continues
    failing = await made.workflow(_shared_with(user))
    going_on = await made.workflow(_shared_with(user), {"onReject": "continue"})
    outcomes = {}
    for workflow in (failing, going_on):
        execution = await made.start(workflow)
        approval = await made.request(execution, [user_gid(user)])
        # when
        body = await user.post(DECIDE, {"id": approval, "decision": "REJECT", "comment": "no"})
        outcomes[workflow] = _result(body, "decideApproval")["execution"]
    # then
    assert outcomes[failing]["status"] == "FAILED"
    assert outcomes[failing]["error"] == "rejected at review: no"
    assert outcomes[going_on]["status"] == "RUNNING"


async def test_approvers_come_from_the_node_when_the_request_names_none(
    made: Flow, user: AsClient
) -> None:
    workflow = await made.workflow(_shared_with(user), {"approvers": [user_gid(user)]})
    execution = await made.start(workflow)
    # when
    answer = await made.run(REQUEST, id=execution, node="review")
    # then
    assert answer["requestApproval"]["approval"]["approvers"] == [{"id": user_gid(user)}]


async def test_an_operator_pauses_and_resumes_and_each_counts_as_an_intervention(
    made: Flow, services: Services
) -> None:
    execution = await made.start(await made.workflow({"isPublic": False}))
    paused = (await made.run(PAUSE, id=execution, reason="look"))["pauseExecution"]
    assert paused["execution"] == {"status": "PAUSED", "humanInterventions": 1}
    resumed = (await made.run(RESUME, id=execution))["resumeExecution"]
    assert resumed["execution"] == {"status": "RUNNING", "humanInterventions": 2}
    statuses = [e.status for e in await _events(execution) if e.type.value == "status_changed"]
    assert statuses == ["pending", "paused", "running"]
    # the figures add them up
    stats = await made.run(
        "query($a: ID!) { dashboardStats(agentId: $a) { humanInterventions } }", a=made.agent_id
    )
    assert stats["dashboardStats"]["humanInterventions"] == 2


# --- races --------------------------------------------------------------------------------


async def test_two_approvers_deciding_at_once_one_wins_the_other_is_told(
    made: Flow, user: AsClient, admin: AsClient, services: Services
) -> None:
    workflow = await made.workflow(_shared_with(user))
    for _ in range(3):
        execution = await made.start(workflow)
        approval = await made.request(execution, [user_gid(user), user_gid(admin)])
        # when: both decide together, differently
        bodies = await asyncio.gather(
            user.post(DECIDE, {"id": approval, "decision": "APPROVE"}),
            admin.post(DECIDE, {"id": approval, "decision": "REJECT"}),
        )
        # then: exactly one decision stands; the other gets it back, typed
        results = [_result(body, "decideApproval") for body in bodies]
        kinds = sorted(r["__typename"] for r in results)
        assert kinds == ["ApprovalAlreadyDecided", "ApprovalPayload"], results
        won = next(r for r in results if r["__typename"] == "ApprovalPayload")
        lost = next(r for r in results if r["__typename"] == "ApprovalAlreadyDecided")
        assert lost["code"] == "APPROVAL_ALREADY_DECIDED"
        assert lost["decision"] == won["approval"]["decision"]
        assert lost["decidedById"] == won["approval"]["decidedBy"]["id"]
        row = await _row(services, execution)
        assert row.human_interventions == 1
        decided = [e for e in await _events(execution) if e.type.value == "approval_decided"]
        assert len(decided) == 1


async def test_a_decision_racing_a_cancel_leaves_one_consistent_story(
    made: Flow, user: AsClient, services: Services
) -> None:
    workflow = await made.workflow(_shared_with(user))
    for _ in range(4):
        execution = await made.start(workflow)
        approval = await made.request(execution, [user_gid(user)])
        # when
        decided_body, cancelled = await asyncio.gather(
            user.post(DECIDE, {"id": approval, "decision": "APPROVE"}),
            made.scratch.client.post(
                "/graphql", json={"query": CANCEL, "variables": {"id": execution}}
            ),
        )
        # then: the cancel always ends the run; the decision stands only if it came first
        assert cancelled.json()["data"]["cancelExecution"]["__typename"] == (
            "FinishExecutionPayload"
        )
        decided = _result(decided_body, "decideApproval")
        row = await _row(services, execution)
        assert row.status.value == "cancelled"
        shown = (await made.run(EXECUTION, id=execution))["execution"]["approvals"][0]
        if decided["__typename"] == "ApprovalPayload":
            assert shown["decision"] == "APPROVE"
            assert row.human_interventions == 1
        else:
            assert decided["__typename"] == "InvalidTransition", decided
            assert shown["decision"] is None
            assert row.human_interventions == 0


# --- refusals -----------------------------------------------------------------------------


@pytest.fixture
async def inactive_member(services: Services, scratch: Scratch) -> AsyncIterator[str]:
    """A deactivated member of the first organization: no longer someone to ask."""
    user_id = uuid.uuid4()
    async with services.postgres.session() as session, session.begin():
        session.add(
            User(
                id=user_id,
                organization_id=scratch.organization_id,
                name="Gone",
                email=f"gone-{user_id.hex[:8]}@acme.example",
                role=UserRole.USER,
                password_hash="x",  # noqa: S106 - no password: a stub hash
                is_active=False,
            )
        )
    try:
        yield to_global_id("User", user_id)
    finally:
        async with services.postgres.session() as session, session.begin():
            await session.execute(delete(User).where(User.id == user_id))


async def test_bad_requests_are_refused_by_field_and_write_nothing(
    made: Flow, user: AsClient, viewer: AsClient, services: Services, inactive_member: str
) -> None:
    foreign = to_global_id("User", (await user_by_email(services, OTHER_ADMIN)).id)
    workflow = await made.workflow(_shared_with(user))
    execution = await made.start(workflow)
    unknown = to_global_id("User", uuid.uuid4())
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"approvers": [unknown]}, [("approvers[0]", "NOT_FOUND")]),
        ({"approvers": [foreign]}, [("approvers[0]", "NOT_FOUND")]),
        ({"approvers": [inactive_member]}, [("approvers[0]", "NOT_FOUND")]),
        # the viewer may not read this workflow (it names only the user)
        ({"approvers": [user_gid(user), user_gid(viewer)]}, [("approvers[1]", "INVALID")]),
        ({"approvers": ["nonsense"]}, [("approvers[0]", "INVALID_ID")]),
        ({"approvers": []}, [("approvers", "REQUIRED")]),
        ({}, [("approvers", "REQUIRED")]),
        ({"approvers": [user_gid(user)], "node": "run"}, [("nodeId", "INVALID")]),
        ({"approvers": [user_gid(user)], "node": "nowhere"}, [("nodeId", "UNKNOWN_NODE")]),
        ({"approvers": [user_gid(user)], "expires": 0}, [("expiresInSeconds", "OUT_OF_RANGE")]),
        ({"approvers": [user_gid(user)], "message": "x" * 2001}, [("message", "TOO_LONG")]),
    ]
    for extra, expected in cases:
        variables = {"node": "review", **extra}
        # when
        result = (await made.run(REQUEST, id=execution, **variables))["requestApproval"]
        # then
        assert result["__typename"] == "ValidationError", (extra, result)
        assert [(i["path"], i["code"]) for i in result["issues"]] == expected, extra
    assert await _approval_count(services, execution) == 0
    assert (await _row(services, execution)).status.value == "pending"


async def test_deciding_twice_late_or_as_someone_else_is_refused(
    made: Flow, user: AsClient, viewer: AsClient, services: Services
) -> None:
    workflow = await made.workflow(_shared_with(user, viewer))
    execution = await made.start(workflow)
    approval = await made.request(execution, [user_gid(user)])

    # someone else, who may read the run but is not asked: forbidden
    refused = _result(await viewer.post(DECIDE, {"id": approval, "decision": "APPROVE"}),
                      "decideApproval")  # fmt: skip
    assert refused["__typename"] == "Forbidden"
    # no such approval, or not an approval id at all
    missing = to_global_id("Approval", uuid.uuid4())
    assert _result(await user.post(DECIDE, {"id": missing, "decision": "APPROVE"}),
                   "decideApproval")["__typename"] == "NotFound"  # fmt: skip
    bad = _result(await user.post(DECIDE, {"id": "x", "decision": "APPROVE"}), "decideApproval")
    assert [(i["path"], i["code"]) for i in bad["issues"]] == [("approvalId", "INVALID_ID")]
    # a second request while the first is open
    again = (await made.run(REQUEST, id=execution, node="review",
                            approvers=[user_gid(user)]))["requestApproval"]  # fmt: skip
    assert again["__typename"] == "InvalidTransition"
    # resuming does not skip the decision
    assert (await made.run(RESUME, id=execution))["resumeExecution"]["__typename"] == (
        "InvalidTransition"
    )

    # twice: a retry with the same key is the first answer; anything else is refused
    key = f"decide-{uuid.uuid4().hex}"
    approve = {"id": approval, "decision": "APPROVE", "key": key}
    first = _result(await user.post(DECIDE, approve), "decideApproval")
    assert first["__typename"] == "ApprovalPayload"
    retried = _result(await user.post(DECIDE, approve), "decideApproval")
    assert retried["__typename"] == "ApprovalPayload"
    assert retried["approval"]["decidedBy"] == first["approval"]["decidedBy"]
    second = _result(
        await user.post(DECIDE, {"id": approval, "decision": "REJECT"}), "decideApproval"
    )
    assert second["__typename"] == "ApprovalAlreadyDecided"
    assert second["decision"] == "APPROVE"
    assert (await _row(services, execution)).human_interventions == 1

    # after expiry: a new approval whose deadline has passed
    late = await made.request(execution, [user_gid(user)], expires=60)
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Approval)
            .where(Approval.id == from_global_id(late)[1])
            .values(expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 0, 1))
        )
    expired = _result(await user.post(DECIDE, {"id": late, "decision": "APPROVE"}),
                      "decideApproval")  # fmt: skip
    assert expired["__typename"] == "ApprovalExpired"
    assert expired["code"] == "APPROVAL_EXPIRED"
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert [a["status"] for a in shown["approvals"]] == ["APPROVED", "EXPIRED"]
    assert shown["status"] == "PAUSED"
    # an expired approval no longer holds the run: an operator may resume it
    assert (await made.run(RESUME, id=execution))["resumeExecution"]["execution"]["status"] == (
        "RUNNING"
    )


async def test_pausing_what_cannot_be_paused_is_an_invalid_transition(
    made: Flow, services: Services
) -> None:
    execution = await made.start(None)
    assert (await made.run(RESUME, id=execution))["resumeExecution"]["__typename"] == (
        "InvalidTransition"
    )
    assert (await made.run(PAUSE, id=execution))["pauseExecution"]["__typename"] == (
        "ExecutionControlPayload"
    )
    again = (await made.run(PAUSE, id=execution))["pauseExecution"]
    assert again["__typename"] == "InvalidTransition"
    assert (await made.run(CANCEL, id=execution))["cancelExecution"]["__typename"] == (
        "FinishExecutionPayload"
    )
    before = await _row(services, execution)
    # when: the run has ended
    for mutation, field in ((PAUSE, "pauseExecution"), (RESUME, "resumeExecution")):
        result = (await made.run(mutation, id=execution))[field]
        # then
        assert result["__typename"] == "InvalidTransition", field
    after = await _row(services, execution)
    assert (after.status, after.human_interventions, after.last_event_seq) == (
        before.status,
        before.human_interventions,
        before.last_event_seq,
    )
    assert before.started_by_id is not None
    starter = to_global_id("User", before.started_by_id)
    ended = (await made.run(REQUEST, id=execution, node="review", approvers=[starter]))[
        "requestApproval"
    ]
    assert ended["__typename"] == "InvalidTransition"


async def test_viewers_may_decide_when_named_but_never_pause(made: Flow, viewer: AsClient) -> None:
    workflow = await made.workflow(_shared_with(viewer))
    execution = await made.start(workflow)
    pause = await viewer.post(PAUSE, {"id": execution})
    assert error_codes(pause) == ["FORBIDDEN"]
    approval = await made.request(execution, [user_gid(viewer)])
    decided = _result(await viewer.post(DECIDE, {"id": approval, "decision": "APPROVE"}),
                      "decideApproval")  # fmt: skip
    assert decided["__typename"] == "ApprovalPayload"


async def test_the_inbox_pages_oldest_first(made: Flow, user: AsClient) -> None:
    workflow = await made.workflow(_shared_with(user))
    asked = []
    for _ in range(3):
        asked.append(await made.request(await made.start(workflow), [user_gid(user)]))
    # when
    first = _result(await user.post(INBOX, {"n": 2}), "pendingApprovals")
    mine = [e for e in first["edges"] if e["node"]["id"] in asked]
    rest = _result(await user.post(INBOX, {"n": 50, "after": first["edges"][-1]["cursor"]}),
                   "pendingApprovals")  # fmt: skip
    # then: all three, once each, in the order asked
    seen = [e["node"]["id"] for e in [*first["edges"], *rest["edges"]]]
    assert [i for i in seen if i in asked] == asked
    assert first["totalCount"] >= 3 and len(mine) <= 2


async def test_the_other_organization_sees_no_approval_and_decides_none(
    made: Flow, user: AsClient, app: FastAPI, services: Services
) -> None:
    workflow = await made.workflow(_shared_with(user))
    execution = await made.start(workflow)
    approval = await made.request(execution, [user_gid(user)])
    async with client_as(app, services, OTHER_ADMIN) as outsider:
        decided = _result(await outsider.post(DECIDE, {"id": approval, "decision": "APPROVE"}),
                          "decideApproval")  # fmt: skip
        assert decided["__typename"] == "NotFound"
        for mutation, field in ((PAUSE, "pauseExecution"), (RESUME, "resumeExecution")):
            result = _result(await outsider.post(mutation, {"id": execution}), field)
            assert result["__typename"] == "NotFound"
        requested = _result(
            await outsider.post(REQUEST, {"id": execution, "node": "review",
                                          "approvers": [user_gid(outsider)]}),
            "requestApproval",
        )  # fmt: skip
        assert requested["__typename"] == "NotFound"
        inbox = _result(await outsider.post(INBOX, {"n": 100}), "pendingApprovals")
        assert approval not in {e["node"]["id"] for e in inbox["edges"]}
    assert (await _row(services, execution)).status.value == "paused"


async def test_approvals_of_a_page_cost_a_fixed_number_of_round_trips(
    made: Flow, user: AsClient, client: httpx.AsyncClient
) -> None:
    workflow = await made.workflow(_shared_with(user))
    for _ in range(4):
        await made.request(await made.start(workflow), [user_gid(user), user_gid(user)])
    query = """
    query($a: ID!, $n: Int) {
      executions(first: $n, filter: {agentId: $a}) { edges { node {
        humanInterventions
        approvals { status approvers { id } decidedBy { id } execution { id } }
      } } }
    }
    """

    async def trips(n: int) -> dict[str, int]:
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"a": made.agent_id, "n": n}}
        )
        body = response.json()
        assert "errors" not in body, body["errors"]
        counted: dict[str, int] = body["extensions"]["roundTrips"]
        return counted

    await trips(1)  # warm
    # then: the same for one execution and for four
    assert await trips(1) == await trips(4)
