"""The human node an approval belongs to, and the people it may name as approvers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from models.access import Action, allows
from models.documents import Flowchart, Workflow
from models.documents.common import FlowNode
from models.enums import NodeType
from models.sql import Execution, User
from resolvers.errors import BadInputError
from resolvers.ids import parse_id
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from flowgate.services import Services

MAX_APPROVERS = 50
# What a human node's `data.onReject` may say: fail the run (the default), or resume it so
# that the engine takes the node's rejection branch.
ON_REJECT_FAIL = "fail"
ON_REJECT_CONTINUE = "continue"


async def human_node(
    issues: Issues, execution: Execution, workflow: Workflow | None, node_id: str
) -> FlowNode | None:
    """The run's node `node_id` (of its workflow, else of its agent's flowchart), which must
    be a human node; `None` when the run has no graph to check against."""
    nodes: Sequence[FlowNode]
    if workflow is not None:
        nodes = workflow.nodes
    else:
        flowchart = await Flowchart.find_one(
            {"agent_id": execution.agent_id, "organization_id": execution.organization_id}
        )
        if flowchart is None:
            return None
        nodes = flowchart.nodes
    for node in nodes:
        if node.id == node_id:
            if node.type is not NodeType.HUMAN:
                issues.add("nodeId", IssueCode.INVALID, f"is a {node.type.value} node, not human")
            return node
    issues.add("nodeId", IssueCode.UNKNOWN_NODE, "names no node of the run's graph")
    return None


def rejects_by_failing(node: FlowNode | None) -> bool:
    return (node.data.get("onReject") if node else None) != ON_REJECT_CONTINUE


def approver_ids(
    issues: Issues, given: Sequence[str] | None, node: FlowNode | None
) -> list[uuid.UUID]:
    """The approvers asked for, else those the node's `data.approvers` names (global User
    ids or bare UUIDs); each once, in order. Problems are reported at `approvers[i]` either
    way (the node's list as if it had been given)."""
    source = "approvers"
    values: object = given
    if given is None:
        values = node.data.get("approvers") if node is not None else None
        if values is None:
            issues.add("approvers", IssueCode.REQUIRED, "name approvers, or give the human "
                       "node `data.approvers`")  # fmt: skip
            return []
    if not isinstance(values, list) or not values:
        issues.add(source, IssueCode.REQUIRED, "at least one approver is needed")
        return []
    if len(values) > MAX_APPROVERS:
        issues.add(source, IssueCode.TOO_MANY, f"at most {MAX_APPROVERS} approvers")
        return []
    found: list[uuid.UUID] = []
    for index, value in enumerate(values):
        local = _user_id(value)
        if local is None:
            issues.add(f"{source}[{index}]", IssueCode.INVALID_ID, "is not an id of a User")
        elif local not in found:
            found.append(local)
    return found


def _user_id(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        return parse_id(value, "User", argument="approvers")
    except BadInputError:
        return None


async def check_approvers(
    issues: Issues,
    services: Services,
    organization_id: uuid.UUID,
    approvers: list[uuid.UUID],
    workflow: Workflow | None,
) -> None:
    """Each approver must be an active member who may read the run (its workflow)."""
    async with services.postgres.session() as session:
        members = {
            user.id: user
            for user in (
                await session.scalars(
                    select(User).where(
                        User.organization_id == organization_id,
                        User.id.in_(approvers),
                        User.is_active.is_(True),
                    )
                )
            ).all()
        }
    for index, approver in enumerate(approvers):
        user = members.get(approver)
        if user is None:
            issues.add(f"approvers[{index}]", IssueCode.NOT_FOUND,
                       "names no active member of your organization")  # fmt: skip
        elif workflow is not None and not allows(user_subject(user), Action.READ, workflow):
            issues.add(f"approvers[{index}]", IssueCode.INVALID, "may not read the workflow")


class _Subject:
    """A user as the workflow rule's subject (`models.access.Subject`)."""

    def __init__(self, user: User) -> None:
        self.organization_id = user.organization_id
        self.user_id = user.id
        self.role = user.role


def user_subject(user: User) -> _Subject:
    return _Subject(user)
