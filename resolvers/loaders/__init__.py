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

from functools import cached_property

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
    """The request's loaders, each built on first use, inside the running event loop, and
    kept for the rest of the request: two fields that use one loader share it (and its
    batches). Built together, they were about 2.5% of the CPU of a Q5 request whichever
    few it used (issue 16)."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self._services = services
        self._principal = principal

    @cached_property
    def agent_by_id(self) -> AgentByIdLoader:
        return AgentByIdLoader(self._services, self._principal)

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._services, self._principal)

    # Workflow creators reach users by another path (after a MongoDB load, where agent
    # owners come after a PostgreSQL one). Sharing one loader would merge the two into
    # one batch or not depending on which store answers first; apart, each is one batch.
    @cached_property
    def workflow_creator_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._services, self._principal)

    # Executions of workflows the principal may not read are hidden on every path; the
    # readable ids are asked for once per request, by whichever loader needs them first.
    @cached_property
    def readable_workflow_ids(self) -> ReadableWorkflowIds:
        return ReadableWorkflowIds(self._services, self._principal)

    @cached_property
    def execution_by_id(self) -> ExecutionByIdLoader:
        return ExecutionByIdLoader(self._services, self._principal, self.readable_workflow_ids)

    # Who started an execution: its own path again, for the same reason as creators.
    @cached_property
    def execution_starter_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._services, self._principal)

    @cached_property
    def workflow_by_id(self) -> WorkflowByIdLoader:
        return WorkflowByIdLoader(self._services, self._principal)

    @cached_property
    def flowchart_by_agent_id(self) -> FlowchartByAgentIdLoader:
        return FlowchartByAgentIdLoader(self._services, self._principal)

    @cached_property
    def trace_by_execution_id(self) -> TraceByExecutionIdLoader:
        return TraceByExecutionIdLoader(self._services, self._principal)

    @cached_property
    def execution_event_by_id(self) -> ExecutionEventByIdLoader:
        return ExecutionEventByIdLoader(self._services, self._principal)

    @cached_property
    def event_page_by_execution(self) -> EventPageByExecutionLoader:
        return EventPageByExecutionLoader(self._services, self._principal)

    @cached_property
    def event_count_by_execution(self) -> EventCountByExecutionLoader:
        return EventCountByExecutionLoader(self._services, self._principal)

    @cached_property
    def execution_page_by_agent(self) -> ExecutionPageByAgentLoader:
        return ExecutionPageByAgentLoader(
            self._services, self._principal, self.readable_workflow_ids
        )

    @cached_property
    def execution_page_by_workflow(self) -> ExecutionPageByWorkflowLoader:
        return ExecutionPageByWorkflowLoader(
            self._services, self._principal, self.readable_workflow_ids
        )

    @cached_property
    def agent_stats_by_agent_id(self) -> AgentStatsByAgentIdLoader:
        return AgentStatsByAgentIdLoader(
            self._services, self._principal, self.readable_workflow_ids
        )

    @cached_property
    def workflow_stats_by_workflow_id(self) -> WorkflowStatsByWorkflowIdLoader:
        return WorkflowStatsByWorkflowIdLoader(self._services, self._principal, None)

    @cached_property
    def workflow_versions_by_workflow(self) -> WorkflowVersionsByWorkflowIdLoader:
        return WorkflowVersionsByWorkflowIdLoader(self._services, self._principal)

    @cached_property
    def organization_by_id(self) -> OrganizationByIdLoader:
        return OrganizationByIdLoader(self._services, self._principal)

    @cached_property
    def figures_by_organization(self) -> FiguresByOrganizationLoader:
        return FiguresByOrganizationLoader(self._services, self._principal)

    @cached_property
    def audit_entries_by_object(self) -> AuditEntriesByObjectLoader:
        return AuditEntriesByObjectLoader(self._services, self._principal)

    # Conversations (resolvers.conversations)
    @cached_property
    def project_by_id(self) -> ProjectByIdLoader:
        return ProjectByIdLoader(self._services, self._principal)

    @cached_property
    def conversation_by_id(self) -> ConversationByIdLoader:
        return ConversationByIdLoader(self._services, self._principal)

    @cached_property
    def message_by_id(self) -> MessageByIdLoader:
        return MessageByIdLoader(self._services, self._principal)

    @cached_property
    def last_message_by_conversation(self) -> LastMessageByConversationLoader:
        return LastMessageByConversationLoader(self._services, self._principal)

    @cached_property
    def tool_calls_by_message(self) -> ToolCallsByMessageLoader:
        return ToolCallsByMessageLoader(self._services, self._principal)

    @cached_property
    def attachments_by_message(self) -> AttachmentsByMessageLoader:
        return AttachmentsByMessageLoader(self._services, self._principal)

    @cached_property
    def agents_by_project(self) -> AgentsByProjectLoader:
        return AgentsByProjectLoader(self._services, self._principal)

    @cached_property
    def branches_by_conversation(self) -> BranchesByConversationLoader:
        return BranchesByConversationLoader(self._services, self._principal)

    @cached_property
    def message_page_by_conversation(self) -> MessagePageByConversationLoader:
        return MessagePageByConversationLoader(self._services, self._principal)

    @cached_property
    def conversation_page_by_agent(self) -> ConversationPageByAgentLoader:
        return ConversationPageByAgentLoader(self._services, self._principal)

    @cached_property
    def conversation_page_by_project(self) -> ConversationPageByProjectLoader:
        return ConversationPageByProjectLoader(self._services, self._principal)

    @cached_property
    def conversation_page_by_user(self) -> ConversationPageByUserLoader:
        return ConversationPageByUserLoader(self._services, self._principal)

    # A conversation's user, apart from agent owners: one batch each (see above).
    @cached_property
    def conversation_user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._services, self._principal)

    # Approvals (resolvers.approvals); their people on a path of their own (see above).
    @cached_property
    def approvals_by_execution(self) -> ApprovalsByExecutionLoader:
        return ApprovalsByExecutionLoader(self._services, self._principal)

    @cached_property
    def approval_by_id(self) -> ApprovalByIdLoader:
        return ApprovalByIdLoader(self._services, self._principal)

    @cached_property
    def approval_user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self._services, self._principal)

    @cached_property
    def webhook_by_workflow_id(self) -> WebhookByWorkflowIdLoader:
        return WebhookByWorkflowIdLoader(self._services, self._principal)

    @cached_property
    def attempts_by_delivery_id(self) -> AttemptsByDeliveryIdLoader:
        return AttemptsByDeliveryIdLoader(self._services, self._principal)


__all__ = ["Loaders"]
