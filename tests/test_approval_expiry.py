"""Approvals that expire undecided: the sweeper acts on each once, as the human node acts on a
rejection (fail the run, or resume it), stores and streams an APPROVAL_EXPIRED event, tells
the engine, and never overrides a decision that came first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from flowgate.services import Services
from models.documents import ExecutionEvent
from models.enums import ExecutionCommandKind
from models.sql import Approval, Execution, ExecutionCommand
from resolvers.approvals import expiry
from resolvers.ids import from_global_id
from resolvers.lifecycle.timeouts import running_sweeper
from tests.approvals import DECIDE, EXECUTION, Flow, flow, user_gid
from tests.auth import ADMIN, client_as
from tests.scratch import Scratch

CONTINUE = {"onReject": "continue"}


@pytest.fixture
async def made(scratch: Scratch) -> AsyncIterator[Flow]:
    async with flow(scratch) as built:
        yield built


@pytest.fixture
async def approver(app: FastAPI, services: Services) -> AsyncIterator[str]:
    """The admin's global user id: the approver of every approval here."""
    async with client_as(app, services, ADMIN) as admin:
        yield user_gid(admin)


async def _paused_run(made: Flow, review_data: dict[str, object] | None = None) -> str:
    workflow = await made.workflow({}, review_data)
    return await made.start(workflow)


async def _expire(services: Services, approval_id: str) -> None:
    """Move the approval's deadline into the past (a real one would take its seconds)."""
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            update(Approval)
            .where(Approval.id == from_global_id(approval_id)[1])
            .values(expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 0, 1))
        )


async def _lapse(services: Services, execution_id: str, approval_id: str) -> bool:
    async with services.postgres.session() as session:
        execution = await session.get(Execution, from_global_id(execution_id)[1])
    assert execution is not None
    return await expiry.lapse(
        services, execution.organization_id, execution.id, from_global_id(approval_id)[1]
    )


async def _event_types(execution_id: str) -> list[str]:
    local = from_global_id(execution_id)[1]
    events = await ExecutionEvent.find({"execution_id": local}).sort("seq").to_list()
    return [event.type.value for event in events]


async def _commands(services: Services, execution_id: str) -> list[ExecutionCommand]:
    async with services.postgres.session() as session:
        rows = await session.scalars(
            select(ExecutionCommand)
            .where(ExecutionCommand.execution_id == from_global_id(execution_id)[1])
            .order_by(ExecutionCommand.id)
        )
        return list(rows)


async def test_an_expired_approval_fails_the_run_once(
    made: Flow, services: Services, approver: str
) -> None:
    # given: a run paused for an approval whose deadline has passed
    execution = await _paused_run(made)
    approval = await made.request(execution, [approver], expires=60)
    await _expire(services, approval)

    # when: the sweep runs (twice: a second pass, or a second replica, finds nothing)
    first = await _lapse(services, execution, approval)
    second = await _lapse(services, execution, approval)

    # then: the run failed with the expiry's code, once
    assert (first, second) == (True, False)
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert shown["status"] == "FAILED"
    assert [a["status"] for a in shown["approvals"]] == ["EXPIRED"]
    async with services.postgres.session() as session:
        row = await session.get(Execution, from_global_id(execution)[1])
    assert row is not None
    assert row.error_code == "approval_expired"
    assert row.error is not None and "review" in row.error
    # the event is stored before the ending, and the engine is told
    types = await _event_types(execution)
    assert types[-2:] == ["approval_expired", "status_changed"]
    assert types.count("approval_expired") == 1
    kinds = [command.kind for command in await _commands(services, execution)]
    assert kinds.count(ExecutionCommandKind.APPROVAL_EXPIRED) == 1
    # and nobody can decide it any more
    late = (await made.run(DECIDE, id=approval, decision="APPROVE"))["decideApproval"]
    assert late["__typename"] == "ApprovalExpired"


async def test_a_node_that_continues_on_rejection_resumes_the_run(
    made: Flow, services: Services, approver: str
) -> None:
    # given: the node continues on rejection; its approval expired
    execution = await _paused_run(made, CONTINUE)
    expired = await made.request(execution, [approver], expires=60)
    await _expire(services, expired)

    # when
    assert await _lapse(services, execution, expired)

    # then: running again, and its engine is told the approval lapsed
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert shown["status"] == "RUNNING"
    assert [a["status"] for a in shown["approvals"]] == ["EXPIRED"]
    kinds = [command.kind for command in await _commands(services, execution)]
    assert kinds == [ExecutionCommandKind.APPROVAL_EXPIRED]
    # the run is not stuck: it may wait for a person again
    again = await made.request(execution, [approver])
    decided = (await made.run(DECIDE, id=again, decision="APPROVE"))["decideApproval"]
    assert decided["execution"]["status"] == "RUNNING"


async def test_an_expiry_alone_resumes_a_continuing_run(
    made: Flow, services: Services, approver: str
) -> None:
    # given
    execution = await _paused_run(made, CONTINUE)
    approval = await made.request(execution, [approver], expires=60)
    await _expire(services, approval)

    # when
    assert await _lapse(services, execution, approval)

    # then: running again, with the reason on the status event
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert shown["status"] == "RUNNING"
    local = from_global_id(execution)[1]
    last = await ExecutionEvent.find({"execution_id": local}).sort("-seq").first_or_none()
    assert last is not None
    assert last.payload["reason"] == "approval_expired"
    assert last.payload["approvalId"] == str(from_global_id(approval)[1])


async def test_a_decision_that_came_first_wins(
    made: Flow, services: Services, approver: str
) -> None:
    # given: approved in time, then its deadline passes
    execution = await _paused_run(made)
    approval = await made.request(execution, [approver], expires=60)
    decided = (await made.run(DECIDE, id=approval, decision="APPROVE"))["decideApproval"]
    assert decided["execution"]["status"] == "RUNNING"
    await _expire(services, approval)
    before = await _event_types(execution)

    # when
    acted = await _lapse(services, execution, approval)

    # then: nothing changed
    assert acted is False
    assert await _event_types(execution) == before
    shown = (await made.run(EXECUTION, id=execution))["execution"]
    assert (shown["status"], shown["approvals"][0]["status"]) == ("RUNNING", "APPROVED")


async def test_an_approval_not_yet_expired_is_left_alone(
    made: Flow, services: Services, approver: str
) -> None:
    execution = await _paused_run(made)
    approval = await made.request(execution, [approver], expires=3600)
    assert await _lapse(services, execution, approval) is False
    assert (await made.run(EXECUTION, id=execution))["execution"]["status"] == "PAUSED"


async def test_the_background_sweeper_acts_on_expiries(
    made: Flow, services: Services, approver: str
) -> None:
    # given
    execution = await _paused_run(made)
    approval = await made.request(execution, [approver], expires=60)
    await _expire(services, approval)

    # when: the sweeper loop runs (as every replica runs it)
    async with running_sweeper(services, interval=0.05):
        for _ in range(200):
            async with services.postgres.session() as session:
                row = await session.get(Approval, from_global_id(approval)[1])
            if row is not None and row.lapsed_at is not None:
                break
            await asyncio.sleep(0.05)

    # then
    assert (await made.run(EXECUTION, id=execution))["execution"]["status"] == "FAILED"


@pytest.mark.parametrize("missing", ["execution", "approval"])
async def test_a_vanished_row_is_not_an_error(
    made: Flow, services: Services, approver: str, missing: str
) -> None:
    execution = await _paused_run(made)
    approval = await made.request(execution, [approver], expires=60)
    async with services.postgres.session() as session:
        row = await session.get(Execution, from_global_id(execution)[1])
    assert row is not None
    execution_id = uuid.uuid4() if missing == "execution" else row.id
    approval_id = uuid.uuid4() if missing == "approval" else from_global_id(approval)[1]
    assert await expiry.lapse(services, row.organization_id, execution_id, approval_id) is False
