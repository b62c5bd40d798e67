"""Per-request dataloaders, one class per access path, named for it (Saleor's convention).

Every `batch_load_fn` makes one round trip for all the keys of its batch and returns values
in key order, `None` (or an empty page) for a missing key. Every query is scoped to the
principal's organization, so an id of another tenant resolves to `None`, never to the row.
Batches of different loaders run concurrently, so each opens its own session: an
`AsyncSession` must never be shared by two coroutines. Those sessions are read sessions
(`Postgres.read_session`): a batch is one statement and needs no transaction, so it costs
no BEGIN and no ROLLBACK on the wire; within a request they take turns on one connection
(`flowgate.stores.reads`), so a batch must not wait on another loader inside its session.
Keys go in as one array parameter (`loaders.keys.in_keys`): one statement text whatever the
batch size, prepared once per connection."""

from __future__ import annotations

from flowgate.principal import Principal
from flowgate.services import Services
from resolvers.loaders.approvals import ApprovalByIdLoader, ApprovalsByExecutionLoader
from resolvers.loaders.audit import AuditEntriesByObjectLoader
from resolvers.loaders.by_id import (
    AgentByIdLoader,
    ExecutionByIdLoader,
    FlowchartByAgentIdLoader,
    TraceByExecutionIdLoader,
    UserByIdLoader,
    WorkflowByIdLoader,
)
from resolvers.loaders.conversations import (
    AgentsByProjectLoader,
    AttachmentsByMessageLoader,
    BranchesByConversationLoader,
    ConversationByIdLoader,
    ConversationPageByAgentLoader,
    ConversationPageByProjectLoader,
    ConversationPageByUserLoader,
    LastMessageByConversationLoader,
    MessageByIdLoader,
    MessagePageByConversationLoader,
    ProjectByIdLoader,
    ToolCallsByMessageLoader,
)
from resolvers.loaders.event_pages import EventCountByExecutionLoader, EventPageByExecutionLoader
from resolvers.loaders.events import ExecutionEventByIdLoader
from resolvers.loaders.notifications import (
    AttemptsByDeliveryIdLoader,
    WebhookByWorkflowIdLoader,
)
from resolvers.loaders.organizations import (
    FiguresByOrganizationLoader,
    OrganizationByIdLoader,
)
from resolvers.loaders.pages import ExecutionPageByAgentLoader, ExecutionPageByWorkflowLoader
from resolvers.loaders.readable import ReadableWorkflowIds
from resolvers.loaders.stats import AgentStatsByAgentIdLoader, WorkflowStatsByWorkflowIdLoader
from resolvers.loaders.versions import WorkflowVersionsByWorkflowIdLoader


class Loaders:
    """The request's loaders, built together inside the running event loop."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self.agent_by_id = AgentByIdLoader(services, principal)
        self.user_by_id = UserByIdLoader(services, principal)
        # Workflow creators reach users by another path (after a MongoDB load, where agent
        # owners come after a PostgreSQL one). Sharing one loader would merge the two into
        # one batch or not depending on which store answers first; apart, each is one batch.
        self.workflow_creator_by_id = UserByIdLoader(services, principal)
        # Executions of workflows the principal may not read are hidden on every path; the
        # readable ids are asked for once per request, by whichever loader needs them first.
        self.readable_workflow_ids = ReadableWorkflowIds(services, principal)
        readable = self.readable_workflow_ids
        self.execution_by_id = ExecutionByIdLoader(services, principal, readable)
        # Who started an execution: its own path again, for the same reason as creators.
        self.execution_starter_by_id = UserByIdLoader(services, principal)
        self.workflow_by_id = WorkflowByIdLoader(services, principal)
        self.flowchart_by_agent_id = FlowchartByAgentIdLoader(services, principal)
        self.trace_by_execution_id = TraceByExecutionIdLoader(services, principal)
        self.execution_event_by_id = ExecutionEventByIdLoader(services, principal)
        self.event_page_by_execution = EventPageByExecutionLoader(services, principal)
        self.event_count_by_execution = EventCountByExecutionLoader(services, principal)
        self.execution_page_by_agent = ExecutionPageByAgentLoader(services, principal, readable)
        self.execution_page_by_workflow = ExecutionPageByWorkflowLoader(
            services, principal, readable
        )
        self.agent_stats_by_agent_id = AgentStatsByAgentIdLoader(services, principal, readable)
        self.workflow_stats_by_workflow_id = WorkflowStatsByWorkflowIdLoader(
            services, principal, None
        )
        self.workflow_versions_by_workflow = WorkflowVersionsByWorkflowIdLoader(services, principal)
        self.organization_by_id = OrganizationByIdLoader(services, principal)
        self.figures_by_organization = FiguresByOrganizationLoader(services, principal)
        self.audit_entries_by_object = AuditEntriesByObjectLoader(services, principal)
        # Conversations (resolvers.conversations)
        self.project_by_id = ProjectByIdLoader(services, principal)
        self.conversation_by_id = ConversationByIdLoader(services, principal)
        self.message_by_id = MessageByIdLoader(services, principal)
        self.last_message_by_conversation = LastMessageByConversationLoader(services, principal)
        self.tool_calls_by_message = ToolCallsByMessageLoader(services, principal)
        self.attachments_by_message = AttachmentsByMessageLoader(services, principal)
        self.agents_by_project = AgentsByProjectLoader(services, principal)
        self.branches_by_conversation = BranchesByConversationLoader(services, principal)
        self.message_page_by_conversation = MessagePageByConversationLoader(services, principal)
        self.conversation_page_by_agent = ConversationPageByAgentLoader(services, principal)
        self.conversation_page_by_project = ConversationPageByProjectLoader(services, principal)
        self.conversation_page_by_user = ConversationPageByUserLoader(services, principal)
        # A conversation's user, apart from agent owners: one batch each (see above).
        self.conversation_user_by_id = UserByIdLoader(services, principal)
        # Approvals (resolvers.approvals); their people on a path of their own (see above).
        self.approvals_by_execution = ApprovalsByExecutionLoader(services, principal)
        self.approval_by_id = ApprovalByIdLoader(services, principal)
        self.approval_user_by_id = UserByIdLoader(services, principal)
        self.webhook_by_workflow_id = WebhookByWorkflowIdLoader(services, principal)
        self.attempts_by_delivery_id = AttemptsByDeliveryIdLoader(services, principal)


__all__ = ["Loaders"]
