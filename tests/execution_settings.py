"""Helpers for the tests of enforced workflow settings and the event log: workflows made
for one test (removed with it), and the operations they send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from flowgate.app import create_app
from flowgate.services import Services
from flowgate.settings import Settings
from models.documents import Workflow
from tests.scratch import Scratch, gql

CREATE_WORKFLOW = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) {
    __typename ... on CreateWorkflowPayload { workflow { id } } ... on Error { message }
  }
}
"""
START = """
mutation($w: ID!, $key: String) {
  startExecution(workflowId: $w, idempotencyKey: $key) {
    __typename
    ... on StartExecutionPayload { execution { id status } }
    ... on ConcurrencyLimitReached { code limit live message }
    ... on Error { code message }
  }
}
"""
STEP = """
mutation($id: ID!, $step: StepInput!) {
  reportExecutionStep(executionId: $id, step: $step) {
    __typename
    ... on ReportExecutionStepPayload { eventSeq execution { status progress { nodesDone } } }
    ... on RetriesExhausted { code nodeId failures maxRetries }
    ... on Error { code message }
  }
}
"""
FINISH = """
mutation($id: ID!) {
  finishExecution(executionId: $id, status: SUCCEEDED) {
    __typename ... on Error { code message }
  }
}
"""
LOG = """
mutation($id: ID!, $message: String!, $level: LogLevel, $node: String, $data: JSON) {
  appendExecutionLog(executionId: $id, message: $message, level: $level, nodeId: $node,
                     data: $data) {
    __typename
    ... on AppendExecutionLogPayload { eventSeq execution { status } }
    ... on ValidationError { issues { path code } }
    ... on Error { code message }
  }
}
"""
EXECUTION = """
query($id: ID!) {
  execution(id: $id) {
    status error errorCode
    steps { nodeId status attempt }
    progress { nodesDone }
  }
}
"""


async def create_workflow(scratch: Scratch, agent_id: str, **settings: Any) -> str:
    input_ = {
        "name": scratch.name("workflow"),
        "status": "ACTIVE",
        "settings": settings,
        "nodes": [
            {"id": "a", "type": "ACTION", "label": "A", "data": {"agentId": agent_id}},
            {"id": "b", "type": "ACTION", "label": "B"},
        ],
        "edges": [{"source": "a", "target": "b"}],
    }
    made = (await gql(scratch.client, CREATE_WORKFLOW, {"input": input_}))["createWorkflow"]
    assert made["__typename"] == "CreateWorkflowPayload", made
    workflow_id: str = made["workflow"]["id"]
    return workflow_id


async def remove_workflows(scratch: Scratch) -> None:
    await Workflow.find({"name": {"$regex": f"^{scratch.prefix}"}}).delete()


async def start(client: httpx.AsyncClient, workflow_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(client, START, {"w": workflow_id}))["startExecution"]
    return result


async def step(
    client: httpx.AsyncClient, execution_id: str, node_id: str, status: str, **fields: Any
) -> dict[str, Any]:
    report = {"nodeId": node_id, "status": status, "nodeType": "ACTION", **fields}
    variables = {"id": execution_id, "step": report}
    result: dict[str, Any] = (await gql(client, STEP, variables))["reportExecutionStep"]
    return result


@asynccontextmanager
async def replica(settings: Settings, services: Services) -> AsyncIterator[FastAPI]:
    """A second gateway on the same stores: its own pools, its own background loops."""
    application = create_app(settings)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        # Beanie binds the documents to one client per process: the replica's, which its
        # lifespan has closed. Bind them back to the session's (as tests/compiled.py does).
        await services.mongo.open()


@asynccontextmanager
async def client_of(app: FastAPI, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://flowgate.test", headers=headers
    ) as http:
        yield http
