"""Helpers of the notification and webhook tests: a team of the seeded members with
workflows of their own, runs that end, approval requests, and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowgate.principal import Actor, Principal
from flowgate.services import Services
from flowgate.stores.embedded import free_port
from models.documents import Workflow, WorkflowVersion
from models.enums import ExecutionEventType
from models.sql import AuditLogEntry, Execution, WorkflowWebhook
from resolvers.ids import from_global_id, to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from tests.auth import ADMIN, USER, VIEWER, AsClient, client_as
from tests.scratch import Scratch, gql

ROLES = {"admin": ADMIN, "user": USER, "viewer": VIEWER}

CREATE_WORKFLOW = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { __typename ... on CreateWorkflowPayload { workflow { id } } }
}
"""
START = """
mutation($w: ID!, $key: String) {
  startExecution(workflowId: $w, idempotencyKey: $key) {
    __typename ... on StartExecutionPayload { execution { id } }
  }
}
"""
STEP = """
mutation($id: ID!, $step: StepInput!) {
  reportExecutionStep(executionId: $id, step: $step) { __typename }
}
"""
FINISH = """
mutation($id: ID!, $status: ExecutionStatus!, $error: String, $key: String) {
  finishExecution(executionId: $id, status: $status, error: $error, idempotencyKey: $key) {
    __typename
  }
}
"""
NOTIFICATIONS = """
query($unread: Boolean!, $first: Int, $after: String) {
  notifications(unreadOnly: $unread, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id kind message details read readAt cursor createdAt
      execution { id status } workflow { id name }
    } }
  }
}
"""
SET_WEBHOOK = """
mutation($w: ID!, $url: String!, $secret: String) {
  setWorkflowWebhook(workflowId: $w, url: $url, secret: $secret) {
    __typename
    ... on SetWorkflowWebhookPayload { secret webhook { url secretHint } }
    ... on ValidationError { issues { path code message } }
    ... on Error { code message }
  }
}
"""


def gid(type_name: str, local: uuid.UUID) -> str:
    return to_global_id(type_name, local)


@dataclass
class Team:
    """The seeded admin, user and viewer of the first organization, a scratch agent, and
    the workflows a test makes (removed with their webhooks when it ends)."""

    scratch: Scratch
    members: dict[str, AsClient]
    agent_id: str = ""
    workflows: list[str] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.scratch.services

    def user_gid(self, role: str) -> str:
        return gid("User", self.members[role].principal.user_id)

    async def workflow(
        self,
        label: str,
        *,
        owners: tuple[str, ...] = (),
        editors: tuple[str, ...] = (),
        viewers: tuple[str, ...] = (),
        public: bool = False,
        on_failure: bool = True,
        on_success: bool = False,
        channels: tuple[str, ...] = (),
    ) -> str:
        input_ = {
            "name": self.scratch.name(label),
            "nodes": [{"id": "run", "type": "ACTION", "label": "Run",
                       "data": {"agentId": self.agent_id}}],
            "edges": [],
            "settings": {"notifyOnFailure": on_failure, "notifyOnSuccess": on_success,
                         "notificationChannels": list(channels), "concurrency": 100},
            "permissions": {"isPublic": public,
                            "ownerIds": [self.user_gid(r) for r in owners],
                            "editorIds": [self.user_gid(r) for r in editors],
                            "viewerIds": [self.user_gid(r) for r in viewers]},
        }  # fmt: skip
        made = await gql(self.scratch.client, CREATE_WORKFLOW, {"input": input_})
        assert made["createWorkflow"]["__typename"] == "CreateWorkflowPayload", made
        workflow_id: str = made["createWorkflow"]["workflow"]["id"]
        self.workflows.append(workflow_id)
        return workflow_id

    async def start(self, workflow_id: str, key: str | None = None) -> str:
        started = await gql(self.scratch.client, START, {"w": workflow_id, "key": key})
        assert started["startExecution"]["__typename"] == "StartExecutionPayload", started
        execution_id: str = started["startExecution"]["execution"]["id"]
        return execution_id

    async def finish(
        self, execution_id: str, status: str, key: str | None = None
    ) -> dict[str, Any]:
        error = "the model refused" if status == "FAILED" else None
        variables = {"id": execution_id, "status": status, "error": error, "key": key}
        finished: dict[str, Any] = (await gql(self.scratch.client, FINISH, variables))[
            "finishExecution"
        ]
        return finished

    async def run(self, workflow_id: str, status: str) -> str:
        """A run of the workflow that starts a step (it is RUNNING) and ends as `status`."""
        execution_id = await self.start(workflow_id)
        step = {"nodeId": "run", "nodeType": "ACTION", "status": "STARTED"}
        stepped = await gql(self.scratch.client, STEP, {"id": execution_id, "step": step})
        assert stepped["reportExecutionStep"]["__typename"] == "ReportExecutionStepPayload"
        assert (await self.finish(execution_id, status))["__typename"] == "FinishExecutionPayload"
        return execution_id

    async def request_approval(self, execution_id: str, approvers: list[uuid.UUID]) -> None:
        await request_approval(
            self.services, self.members["admin"].principal, execution_id, approvers
        )

    async def notifications(self, role: str, *, unread: bool = False) -> list[dict[str, Any]]:
        """The member's notifications about this team's workflows, newest first."""
        body = await self.members[role].post(NOTIFICATIONS, {"unread": unread, "first": 100})
        assert "errors" not in body, body["errors"]
        edges = body["data"]["notifications"]["edges"]
        return [
            e["node"] for e in edges if e["node"]["details"].get("workflowId") in self.workflows
        ]

    async def remove(self) -> None:
        ids = [from_global_id(w)[1] for w in self.workflows]
        await WorkflowVersion.find({"workflow_id": {"$in": ids}}).delete()
        await Workflow.find({"_id": {"$in": ids}}).delete()
        async with self.services.postgres.session() as session, session.begin():
            await session.execute(
                delete(WorkflowWebhook).where(WorkflowWebhook.workflow_id.in_(ids))
            )
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id.in_([str(i) for i in ids]))
            )


async def request_approval(
    services: Services, admin: Principal, execution_id: str, approvers: list[uuid.UUID]
) -> None:
    """What part E's `requestApproval` emits (the contract's `approval_requested` event),
    through the one lifecycle path."""
    local = from_global_id(execution_id)[1]
    approval = uuid.uuid4()

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], Any]:
        execution = await locked_execution(session, admin.organization_id, local, execution_id)
        event = PendingEvent(
            ExecutionEventType.APPROVAL_REQUESTED,
            node_id="run",
            payload={"approvalId": str(approval), "nodeId": "run",
                     "approvers": [str(a) for a in approvers], "message": "please check"},
        )  # fmt: skip
        return execution, [event], {"execution_id": str(execution.id)}

    await run_change(
        services,
        Actor.person(admin.organization_id, admin.user_id, None),
        operation="test.requestApproval",
        request={"approval": str(approval)},
        idempotency_key=None,
        change=change,
    )


@asynccontextmanager
async def team_of(services: Services, app: FastAPI, client: Any) -> AsyncIterator[Team]:
    async with Scratch.open(services, app, client) as scratch, AsyncExitStack() as stack:
        members = {
            role: await stack.enter_async_context(client_as(app, services, email))
            for role, email in ROLES.items()
        }
        team = Team(scratch, members)
        team.agent_id = await scratch.create_agent("runner")
        try:
            yield team
        finally:
            await team.remove()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    """A real HTTP server on a local port that records what is POSTed to it; `answer` sets
    the status it replies with. `start()`/`stop()` bring it up and down on the same port."""

    def __init__(self, certfile: str | None = None) -> None:
        # `certfile`: a PEM of key and certificate chain, to listen with TLS instead.
        self.certfile = certfile
        self.port = free_port()
        self.received: list[Received] = []
        self.answer = 200
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), await request.body(), self.answer))
        return Response(status_code=self.answer, content=b"" if self.answer < 300 else b"busy")

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            ssl_certfile=self.certfile,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110  # uvicorn offers a flag only
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = None


@pytest.fixture
async def team(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: object
) -> AsyncIterator[Team]:
    """The seeded members' team with workflows of its own, removed when the test ends.
    Registered for every module by `tests/conftest.py` (`pytest_plugins`)."""
    async with team_of(services, app, client) as made:
        yield made


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on a real port."""
    made = Receiver()
    await made.start()
    try:
        yield made
    finally:
        await made.stop()
