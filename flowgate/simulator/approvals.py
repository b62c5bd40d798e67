"""The simulated engine at a human node: it asks for an approval and waits until someone
decides (in GraphiQL: `pendingApprovals`, then `decideApproval`), the run is ended
elsewhere, or the approval expires.

It waits by reading the run now and then rather than over `executionCommands`: the engine
talks plain HTTP, and a decision a few seconds late is fine for a demo. A real engine
subscribes to `executionCommands(agentId: ...)` and resumes with its last cursor."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

from flowgate.simulator.catalog import Node
from flowgate.simulator.gateway import Gateway

REQUEST = """
mutation SimulatorRequestApproval($id: ID!, $node: String!, $approvers: [ID!],
                                  $message: String, $expires: Int, $key: String) {
  requestApproval(executionId: $id, nodeId: $node, approvers: $approvers, message: $message,
                  expiresInSeconds: $expires, idempotencyKey: $key) {
    __typename
    ... on ApprovalPayload { approval { id } }
    ... on Error { code message }
  }
}
"""
WATCH = """
query SimulatorApproval($id: ID!) {
  execution(id: $id) { status approvals { id status decision } }
}
"""
ME = "query SimulatorMe { me { id } }"
POLL_SECONDS = 1.0


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"  # and the run goes on (the node's `data.onReject` is "continue")
    EXPIRED = "expired"
    ENDED = "ended"  # the run ended meanwhile: cancelled, or failed by a rejection


async def who_am_i(gateway: Gateway) -> str:
    data = await gateway.query(ME)
    user_id: str = data["me"]["id"]
    return user_id


async def ask_and_wait(
    gateway: Gateway, execution_id: str, node: Node, me: str, expires_seconds: int
) -> tuple[Verdict, dict[str, Any]]:
    """Ask at `node` (its own `data.approvers`, else the engine's user) and wait; returns the
    verdict, or raises `RefusedApproval` when the gateway will not ask."""
    variables: dict[str, Any] = {
        "id": execution_id,
        "node": node.id,
        "approvers": None if node.data.get("approvers") else [me],
        "message": node.data.get("instructions") or f"{node.label or node.id}: approve?",
        "expires": expires_seconds,
    }
    answer = await gateway.mutate("requestApproval", REQUEST, variables)
    if answer["__typename"] != "ApprovalPayload":
        raise RefusedApprovalError(answer)
    approval_id = answer["approval"]["id"]
    while True:
        await asyncio.sleep(POLL_SECONDS)
        execution = (await gateway.query(WATCH, {"id": execution_id}))["execution"]
        if execution is None or execution["status"] in {"CANCELLED", "FAILED", "SUCCEEDED"}:
            return Verdict.ENDED, _find(execution, approval_id) or {}
        mine = _find(execution, approval_id)
        status = mine["status"] if mine else "EXPIRED"
        if status == "APPROVED":
            return Verdict.APPROVED, mine or {}
        if status == "REJECTED":
            return Verdict.REJECTED, mine or {}
        # Expired, the run is acted on by the gateway's sweeper within a pass: wait for it.
        if status == "EXPIRED" and execution["status"] != "PAUSED":
            return Verdict.EXPIRED, mine or {}


def _find(execution: dict[str, Any] | None, approval_id: str) -> dict[str, Any] | None:
    for approval in (execution or {}).get("approvals") or []:
        if approval["id"] == approval_id:
            found: dict[str, Any] = approval
            return found
    return None


class RefusedApprovalError(Exception):
    def __init__(self, answer: dict[str, Any]) -> None:
        self.code = answer.get("code")
        super().__init__(f"requestApproval: {answer['__typename']}: {answer.get('message')}")
