"""An execution's approvals compile into the one statement, their relations (approvers,
decider, execution) and their state at the request's time (`status`, `waitMs`) too, and so
does the inbox (`pendingApprovals`), with answers equal to the resolvers' (harness:
tests/compiled.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from flowgate.services import Services
from models.sql import Approval, base
from resolvers.ids import from_global_id
from tests.approvals import CANCEL, DECIDE, EDGES, NOW, Flow, flow, user_gid
from tests.auth import client_as
from tests.compiled import (
    ROLES,
    Pair,
)
from tests.scratch import Scratch

APPROVALS = """
query Approvals($e: ID!) {
  execution(id: $e) { id
    approvals { __typename id nodeId message requestedAt expiresAt decidedAt decision comment
      decidedBy { id email } approvers { id name } execution { id status agent { name } } }
  }
  executions(first: 5) { edges { node { id approvals { id approvers { email } } } } }
}
"""


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Flow]:
    async with flow(scratch) as built:
        yield built


@pytest.mark.parametrize("public", [True, False])
async def test_an_executions_approvals_compile(
    users: dict[str, Pair], made: Flow, app: FastAPI, services: Services, public: bool
) -> None:
    # given: a run with a decided approval and a pending one (naming some of an admin, a
    # user and a viewer, in an order of their own), of a public workflow or of one shared
    # with the viewer alone
    named = []
    for email in ("admin@acme.example", "user@acme.example", "viewer@acme.example"):
        async with client_as(app, services, email) as member:
            named.append(user_gid(member))
    readers = {"isPublic": True} if public else {"isPublic": False, "viewerIds": [named[2]]}
    first_named = named if public else [named[0], named[2]]
    second_named = [named[2], named[1]] if public else [named[2]]
    execution = await made.start(await made.workflow(readers))
    decided = await made.request(execution, first_named, message="First look")
    verdict = await made.run(DECIDE, id=decided, decision="APPROVE", comment="fine")
    assert verdict["decideApproval"]["__typename"] == "ApprovalPayload", verdict
    await made.request(execution, second_named, expires=3600)

    for email in ROLES:
        # when: as each role (the resolvers' answer, one statement per root field)
        answer = await users[email].check(APPROVALS, {"e": execution}, roots=2)
        assert "errors" not in answer.body
        readable_ids = 0 if email.startswith("admin@") else 1
        assert answer.round_trips == {"sql": 2, "mongo": readable_ids}
        # then, not vacuously: the approvals, in order, decided and not, to whoever sees
        # the run
        shown = answer.body["data"]["execution"]
        if email in ("admin@acme.example", "viewer@acme.example") or (
            public and email.endswith("acme.example")
        ):
            first, second = shown["approvals"]
            assert first["decision"] == "APPROVE" and first["decidedBy"] is not None
            assert [user["id"] for user in first["approvers"]] == first_named
            assert second["decision"] is None
            assert [user["id"] for user in second["approvers"]] == second_named
            assert first["execution"]["id"] == execution
        else:
            assert shown is None


STATE = """
query State($e: ID!) {
  execution(id: $e) { id
    approvals { status waitMs requestedAt expiresAt decidedAt decision }
    also: approvals { __typename state: status waited: waitMs id }
  }
}
"""


async def test_an_approvals_status_and_wait_compile_at_the_requests_time(
    users: dict[str, Pair], made: Flow, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a run of a public workflow with approvals in every state around a pinned clock
    # (expired, a deadline reached exactly, pending with a microsecond left or no deadline,
    # approved, rejected, asked "after" the clock), the one clock both paths read
    execution = await made.start(await made.workflow({"isPublic": True}))
    async with services.postgres.session() as session, session.begin():
        session.add_all(
            Approval(
                organization_id=made.scratch.organization_id,
                execution_id=from_global_id(execution)[1],
                node_id="review",
                approvers=[],
                decision=decision,
                requested_at=requested_at,
                expires_at=expires_at,
                decided_at=decided_at,
            )
            for decision, requested_at, expires_at, decided_at in EDGES
        )
    monkeypatch.setattr(base, "utcnow", lambda: NOW)

    for email in ROLES:
        # when: as each role
        answer = await users[email].check(STATE, {"e": execution})

        # then: the resolvers' answer byte for byte, computed in the one statement (and, for
        # a member, the one lookup of the workflows they may read)
        assert "errors" not in answer.body
        readable_ids = 0 if email.startswith("admin@") else 1
        assert answer.round_trips == {"sql": 1, "mongo": readable_ids}
        shown = answer.body["data"]["execution"]
        if email.endswith("globex.example"):
            assert shown is None
            continue
        # ...and not vacuous: every state, the deadline reached exactly an expiry
        approvals = shown["approvals"]
        assert len(approvals) == len(EDGES)
        assert {a["status"] for a in approvals} == {"PENDING", "EXPIRED", "APPROVED", "REJECTED"}
        at_deadline = [a for a in approvals if a["expiresAt"] == NOW.isoformat()]
        assert [a["status"] for a in at_deadline] == ["EXPIRED", "APPROVED"]
        assert sorted(a["waitMs"] for a in approvals)[:4] == [0, 0, 0, 0]


INBOX = """
query Inbox($n: Int, $after: String) {
  pendingApprovals(first: $n, after: $after) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id nodeId message status waitMs expiresAt approvers { id }
      execution { id status } } }
  }
}
"""


async def test_the_inbox_compiles(
    users: dict[str, Pair],
    made: Flow,
    app: FastAPI,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a clock a minute ahead, the one both paths read; paused runs waiting for
    # approvals naming some of an admin, a user and a viewer: open (A), of a run only the
    # viewer may read, shown through the readable workflows (B), whose deadline is the
    # clock's time (C: expired) or a microsecond after it (E: open); a decided one (D), and
    # an open one of a cancelled run (F)
    now = base.utcnow() + timedelta(minutes=1)
    monkeypatch.setattr(base, "utcnow", lambda: now)
    named = []
    for email in ("admin@acme.example", "user@acme.example", "viewer@acme.example"):
        async with client_as(app, services, email) as member:
            named.append(user_gid(member))
    admin, user, viewer = named
    public = await made.workflow({"isPublic": True})
    viewers_only = await made.workflow({"isPublic": False, "viewerIds": [viewer]})
    runs, requested = {}, {}
    for label, workflow, approvers in (
        ("A", public, [admin, user, viewer]),
        ("B", viewers_only, [viewer]),
        ("C", public, [user, viewer]),
        ("E", public, [viewer, user]),
        ("D", public, [user]),
        ("F", public, [user, viewer]),
    ):
        runs[label] = await made.start(workflow)
        requested[label] = await made.request(runs[label], approvers, message=label, expires=3600)
    deadlines = {"C": now, "E": now + timedelta(microseconds=1)}
    async with services.postgres.session() as session, session.begin():
        for label, deadline in deadlines.items():
            await session.execute(
                update(Approval)
                .where(Approval.id == from_global_id(requested[label])[1])
                .values(expires_at=deadline)
            )
    verdict = await made.run(DECIDE, id=requested["D"], decision="APPROVE")
    assert verdict["decideApproval"]["__typename"] == "ApprovalPayload", verdict
    cancelled = await made.run(CANCEL, id=runs["F"])
    assert cancelled["cancelExecution"]["__typename"] == "FinishExecutionPayload", cancelled
    expected = {
        "admin@acme.example": ["A"],
        "user@acme.example": ["A", "E"],
        "viewer@acme.example": ["A", "B", "E"],
    }

    for email in ROLES:
        pair = users[email]
        # when: the inbox, then its pages one by one
        answer = await pair.check(INBOX, {"n": 10})
        pages, cursor, more = [], None, True
        while more:
            page = await pair.check(INBOX, {"n": 1, "after": cursor})
            listed = page.body["data"]["pendingApprovals"]
            pages += listed["edges"]
            cursor, more = listed["pageInfo"]["endCursor"], listed["pageInfo"]["hasNextPage"]

        # then: the resolvers' answers in one statement (and, for a member, the one lookup
        # of the workflows they may read)
        readable_ids = 0 if email.startswith("admin@") else 1
        assert answer.round_trips == {"sql": 1, "mongo": readable_ids}
        assert page.round_trips == {"sql": 1, "mongo": readable_ids}
        # ...and not vacuous: open ones naming them, of runs they may read, oldest first
        inbox = answer.body["data"]["pendingApprovals"]
        shown = [edge["node"]["message"] for edge in inbox["edges"]]
        assert shown == expected.get(email, []), email
        assert [edge["node"]["message"] for edge in pages] == shown
        assert inbox["totalCount"] == len(shown)
        assert all(edge["node"]["status"] == "PENDING" for edge in inbox["edges"])
