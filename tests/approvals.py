"""What the approval tests share: a workflow with a human node, runs of it, the operations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from models.documents import Workflow, WorkflowVersion
from models.enums import ApprovalDecision
from models.sql import AuditLogEntry
from resolvers.ids import from_global_id, to_global_id
from tests.auth import AsClient
from tests.scratch import Scratch, gql

ERRORS = """
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
"""
CREATE_WORKFLOW = """
mutation($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { __typename ... on CreateWorkflowPayload { workflow { id } } }
}
"""
START = """
mutation($w: ID, $a: ID) {
  startExecution(workflowId: $w, agentId: $a) {
    __typename ... on StartExecutionPayload { execution { id } }
  }
}
"""
REQUEST = f"""
mutation($id: ID!, $node: String!, $approvers: [ID!], $message: String, $expires: Int,
         $key: String) {{
  requestApproval(executionId: $id, nodeId: $node, approvers: $approvers, message: $message,
                  expiresInSeconds: $expires, idempotencyKey: $key) {{
    __typename
    ... on ApprovalPayload {{
      approval {{ id nodeId status message approvers {{ id }} }}
      execution {{ status }}
    }}
    {ERRORS}
  }}
}}
"""
DECIDE = f"""
mutation($id: ID!, $decision: ApprovalDecision!, $comment: String, $key: String) {{
  decideApproval(approvalId: $id, decision: $decision, comment: $comment,
                 idempotencyKey: $key) {{
    __typename
    ... on ApprovalPayload {{
      approval {{ id status decision comment waitMs decidedBy {{ id }} }}
      execution {{ status error humanInterventions }}
    }}
    ... on ApprovalAlreadyDecided {{ decision decidedById }}
    ... on ApprovalExpired {{ expiredAt }}
    {ERRORS}
  }}
}}
"""
PAUSE = f"""
mutation($id: ID!, $reason: String) {{
  pauseExecution(executionId: $id, reason: $reason) {{
    __typename ... on ExecutionControlPayload {{ execution {{ status humanInterventions }} }}
    {ERRORS}
  }}
}}
"""
RESUME = f"""
mutation($id: ID!, $reason: String) {{
  resumeExecution(executionId: $id, reason: $reason) {{
    __typename ... on ExecutionControlPayload {{ execution {{ status humanInterventions }} }}
    {ERRORS}
  }}
}}
"""
CANCEL = """
mutation($id: ID!) { cancelExecution(executionId: $id) { __typename ... on Error { code } } }
"""
STEP = """
mutation($id: ID!, $node: String!, $status: StepStatus!) {
  reportExecutionStep(executionId: $id, step: {nodeId: $node, status: $status,
                                               nodeType: ACTION}) {
    __typename ... on ReportExecutionStepPayload { execution { status } }
    ... on Error { code message }
  }
}
"""
EXECUTION = """
query($id: ID!) {
  execution(id: $id) {
    status humanInterventions
    approvals { id nodeId status decision comment waitMs approvers { id } decidedBy { id } }
  }
}
"""
INBOX = """
query($n: Int, $after: String) {
  pendingApprovals(first: $n, after: $after) {
    totalCount edges { cursor node { id nodeId execution { id } } }
  }
}
"""

# A pinned clock, and approvals in every state around it: the boundaries of the rules of
# `models.sql.approval` (expired, status, wait).
NOW = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# (decision, requested_at, expires_at, decided_at)
EDGES: list[tuple[ApprovalDecision | None, datetime, datetime | None, datetime | None]] = [
    (None, NOW - timedelta(hours=2), NOW - timedelta(hours=1), None),  # expired
    (None, NOW - timedelta(seconds=3), NOW, None),  # its deadline is now: expired
    (None, NOW - timedelta(seconds=3), NOW + MICROSECOND, None),  # a microsecond left
    (None, NOW - timedelta(seconds=1, microseconds=999), None, None),  # never expires: 1000
    (None, NOW - timedelta(microseconds=999), None, None),  # under a millisecond: 0
    (None, NOW - timedelta(seconds=1, microseconds=1000), None, None),  # 1.001 s: 1000 (a double)
    (None, NOW + timedelta(seconds=5), None, None),  # asked "later" than now: 0, not -5000
    (None, NOW + timedelta(microseconds=400), None, None),  # -0.4 ms: 0
    (ApprovalDecision.APPROVE, NOW - timedelta(days=3), NOW - timedelta(days=2), NOW),
    (ApprovalDecision.REJECT, NOW - timedelta(minutes=1), None, NOW - timedelta(seconds=1)),
    (ApprovalDecision.APPROVE, NOW, NOW, NOW - MICROSECOND),  # decided before it was asked
]


def user_gid(member: AsClient) -> str:
    return to_global_id("User", member.principal.user_id)


@dataclass
class Flow:
    """A scratch agent and workflows with a human node `review` (then an action `run`)."""

    scratch: Scratch
    agent_id: str = ""
    workflows: list[str] = field(default_factory=list)

    async def workflow(
        self, permissions: dict[str, Any], review_data: dict[str, Any] | None = None
    ) -> str:
        input_ = {
            "name": self.scratch.name(f"approvals-{uuid.uuid4().hex[:6]}"),
            "permissions": permissions,
            # Several runs of one workflow at once (the default allows one: see the README).
            "settings": {"concurrency": 100},
            "nodes": [
                {"id": "review", "type": "HUMAN", "label": "Review", "data": review_data or {}},
                {"id": "run", "type": "ACTION", "label": "Run",
                 "data": {"agentId": self.agent_id}},
            ],
            "edges": [{"source": "review", "target": "run"}],
        }  # fmt: skip
        made = await gql(self.scratch.client, CREATE_WORKFLOW, {"input": input_})
        assert made["createWorkflow"]["__typename"] == "CreateWorkflowPayload", made
        workflow_id: str = made["createWorkflow"]["workflow"]["id"]
        self.workflows.append(workflow_id)
        return workflow_id

    async def start(self, workflow_id: str | None) -> str:
        variables = {"w": workflow_id, "a": None if workflow_id else self.agent_id}
        started = (await gql(self.scratch.client, START, variables))["startExecution"]
        assert started["__typename"] == "StartExecutionPayload", started
        execution_id: str = started["execution"]["id"]
        return execution_id

    async def request(self, execution_id: str, approvers: list[str], **extra: Any) -> str:
        """An approval asked for by the admin (the engine here); its id."""
        answer = await self.run(REQUEST, id=execution_id, node="review", approvers=approvers,
                                **extra)  # fmt: skip
        result = answer["requestApproval"]
        assert result["__typename"] == "ApprovalPayload", result
        approval_id: str = result["approval"]["id"]
        return approval_id

    async def run(self, query: str, **variables: Any) -> dict[str, Any]:
        return await gql(self.scratch.client, query, variables)


@asynccontextmanager
async def flow(scratch: Scratch) -> AsyncIterator[Flow]:
    made = Flow(scratch)
    made.agent_id = await scratch.create_agent("approvals")
    try:
        yield made
    finally:
        ids = [from_global_id(w)[1] for w in made.workflows]
        await WorkflowVersion.find({"workflow_id": {"$in": ids}}).delete()
        await Workflow.find({"_id": {"$in": ids}}).delete()
        async with scratch.services.postgres.session() as session, session.begin():
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id.in_([str(i) for i in ids]))
            )
