"""The root Mutation, assembled from one class per domain; each field delegates to
`resolvers.mutations` and returns its payload or a typed error."""

import strawberry

from schema.identity import IdentityMutations
from schema.mutations.agents import AgentMutations
from schema.mutations.approvals import ApprovalMutations
from schema.mutations.conversations import ConversationMutations
from schema.mutations.execution_control import ExecutionControlMutations
from schema.mutations.executions import ExecutionMutations
from schema.mutations.flowcharts import FlowchartMutations
from schema.mutations.projects import ProjectMutations
from schema.mutations.replies import ReplyMutations
from schema.mutations.workflow_restore import WorkflowRestoreMutations
from schema.mutations.workflows import WorkflowMutations
from schema.notification import NotificationMutations
from schema.webhook import WebhookMutations


@strawberry.type(
    description=(
        "Everything that can be changed, in your organization. Each field returns its payload "
        "or a typed error (`... on Error { code message }`); nothing is half-written."
    )
)
class Mutation(
    IdentityMutations,
    AgentMutations,
    FlowchartMutations,
    WorkflowMutations,
    WorkflowRestoreMutations,
    ExecutionMutations,
    ApprovalMutations,
    ExecutionControlMutations,
    ProjectMutations,
    ConversationMutations,
    ReplyMutations,
    NotificationMutations,
    WebhookMutations,
):
    pass


__all__ = ["Mutation"]
