"""The root Query: each field delegates to `resolvers/`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import agents, executions, flowcharts, nodes, workflows
from resolvers.context import Context
from resolvers.ids import parse_id
from schema.agent import Agent
from schema.analytics import AnalyticsQuery
from schema.approval_query import ApprovalQuery
from schema.audit import AuditQuery
from schema.connection import Id, root_connection
from schema.conversation import Conversation, Message
from schema.conversation_query import ConversationQuery
from schema.execution import Execution
from schema.filters import (
    AgentFilter,
    AgentOrder,
    ExecutionFilter,
    ExecutionOrder,
    WorkflowFilter,
    WorkflowOrder,
)
from schema.flowchart import Flowchart
from schema.identity import IdentityQuery
from schema.node import Node
from schema.notification import NotificationQuery
from schema.permissions import READERS
from schema.project import Project
from schema.search import SearchConnection, resolve_search
from schema.stats import DashboardStats, resolve_dashboard_stats
from schema.user import User
from schema.webhook import WebhookQuery
from schema.workflow import Workflow

# The GraphQL type of each type name `resolvers.nodes` finds (tests/test_single_sources.py
# checks that the two agree with the schema's `Node` implementations).
_NODE_TYPES: dict[str, type] = {
    "Agent": Agent,
    "Execution": Execution,
    "Workflow": Workflow,
    "User": User,
    "Flowchart": Flowchart,
    "Project": Project,
    "Conversation": Conversation,
    "Message": Message,
}


@strawberry.type(description="Everything that can be read, scoped to your organization.")
class Query(
    IdentityQuery,
    AuditQuery,
    AnalyticsQuery,
    ConversationQuery,
    ApprovalQuery,
    NotificationQuery,
    WebhookQuery,
):
    agents = root_connection(
        description="Agents, newest first unless `orderBy` says otherwise.",
        node=Agent,
        from_model=Agent.from_model,
        filter_type=AgentFilter,
        filter_description="Which agents.",
        order_type=AgentOrder,
        order_description="Default: newest first.",
        listed=agents.list_agents,
        count=agents.count,
    )

    @strawberry.field(
        permission_classes=READERS, description="An agent by id; null if it does not exist."
    )
    async def agent(self, info: strawberry.Info[Context], id: Id) -> Agent | None:
        model = await agents.agent_by_id(info, parse_id(id, "Agent"))
        return Agent.from_model(model) if model is not None else None

    executions = root_connection(
        description="Executions, newest first unless `orderBy` says otherwise.",
        node=Execution,
        from_model=Execution.from_model,
        filter_type=ExecutionFilter,
        filter_description="Which executions.",
        order_type=ExecutionOrder,
        order_description="Default: newest first.",
        listed=executions.list_executions,
        count=executions.count,
    )

    @strawberry.field(
        permission_classes=READERS, description="An execution by id; null if it does not exist."
    )
    async def execution(self, info: strawberry.Info[Context], id: Id) -> Execution | None:
        model = await executions.execution_by_id(info, parse_id(id, "Execution"))
        return Execution.from_model(model) if model is not None else None

    workflows = root_connection(
        description="Workflows, last updated first unless `orderBy` says otherwise.",
        node=Workflow,
        from_model=Workflow.from_model,
        filter_type=WorkflowFilter,
        filter_description="Which workflows.",
        order_type=WorkflowOrder,
        order_description="Default: last updated first.",
        listed=workflows.list_workflows,
        count=workflows.count,
    )

    @strawberry.field(
        permission_classes=READERS, description="A workflow by id; null if it does not exist."
    )
    async def workflow(self, info: strawberry.Info[Context], id: Id) -> Workflow | None:
        model = await workflows.workflow_by_id(info, parse_id(id, "Workflow"))
        return Workflow.from_model(model) if model is not None else None

    @strawberry.field(
        permission_classes=READERS,
        description="The flowchart of a live agent; null if it has none.",
    )
    async def flowchart(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[strawberry.ID, strawberry.argument(description="The agent's id.")],
    ) -> Flowchart | None:
        model = await flowcharts.flowchart_of_agent(
            info, parse_id(agent_id, "Agent", argument="agentId")
        )
        return Flowchart.from_model(model) if model is not None else None

    dashboard_stats: DashboardStats = strawberry.field(
        resolver=resolve_dashboard_stats,
        permission_classes=READERS,
        description="Execution figures for a time window: by status, duration percentiles, "
        "cost and tokens by provider, a daily series, failing agents and node types.",
    )

    search: SearchConnection | None = strawberry.field(
        resolver=resolve_search,
        permission_classes=READERS,
        description="Agents, workflows, executions and execution events (step errors and "
        "outputs) by words, best match first, with highlights and facets. Null, with a "
        "SEARCH_UNAVAILABLE error, when the search index is down.",
    )

    @strawberry.field(
        permission_classes=READERS,
        description="Any object by its global id (Relay); null if not found.",
    )
    async def node(self, info: strawberry.Info[Context], id: Id) -> Node | None:
        found = await nodes.node_by_global_id(info, id)
        if found is None:
            return None
        type_name, model = found
        return _NODE_TYPES[type_name].from_model(model)  # type: ignore[attr-defined, no-any-return]
