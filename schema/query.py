"""The root Query: each field delegates to `resolvers/`."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry

from resolvers import agents, executions, flowcharts, nodes, workflows
from resolvers.context import Context
from resolvers.ids import parse_id
from schema.agent import Agent
from schema.analytics import AnalyticsQuery
from schema.approval_query import ApprovalQuery
from schema.audit import AuditQuery
from schema.connection import (
    After,
    Before,
    Connection,
    First,
    Id,
    Last,
    page_request,
    paginate,
)
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
    filter_of,
    ordering_of,
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
    @strawberry.field(
        permission_classes=READERS,
        description="Agents, newest first unless `orderBy` says otherwise.",
    )
    async def agents(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[
            AgentFilter | None, strawberry.argument(description="Which agents.")
        ] = None,
        order_by: Annotated[
            AgentOrder | None, strawberry.argument(description="Default: newest first.")
        ] = None,
    ) -> Connection[Agent]:
        return await paginate(
            agents.list_agents(
                info,
                page=page_request(info, first, after, last, before),
                filter_=filter_of(filter),
                order=ordering_of(order_by),
            ),
            Agent.from_model,
            partial(agents.count, info),
        )

    @strawberry.field(
        permission_classes=READERS, description="An agent by id; null if it does not exist."
    )
    async def agent(self, info: strawberry.Info[Context], id: Id) -> Agent | None:
        model = await agents.agent_by_id(info, parse_id(id, "Agent"))
        return Agent.from_model(model) if model is not None else None

    @strawberry.field(
        permission_classes=READERS,
        description="Executions, newest first unless `orderBy` says otherwise.",
    )
    async def executions(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[
            ExecutionFilter | None, strawberry.argument(description="Which executions.")
        ] = None,
        order_by: Annotated[
            ExecutionOrder | None, strawberry.argument(description="Default: newest first.")
        ] = None,
    ) -> Connection[Execution]:
        return await paginate(
            executions.list_executions(
                info,
                page=page_request(info, first, after, last, before),
                filter_=filter_of(filter),
                order=ordering_of(order_by),
            ),
            Execution.from_model,
            partial(executions.count, info),
        )

    @strawberry.field(
        permission_classes=READERS, description="An execution by id; null if it does not exist."
    )
    async def execution(self, info: strawberry.Info[Context], id: Id) -> Execution | None:
        model = await executions.execution_by_id(info, parse_id(id, "Execution"))
        return Execution.from_model(model) if model is not None else None

    @strawberry.field(
        permission_classes=READERS,
        description="Workflows, last updated first unless `orderBy` says otherwise.",
    )
    async def workflows(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[
            WorkflowFilter | None, strawberry.argument(description="Which workflows.")
        ] = None,
        order_by: Annotated[
            WorkflowOrder | None, strawberry.argument(description="Default: last updated first.")
        ] = None,
    ) -> Connection[Workflow]:
        return await paginate(
            workflows.list_workflows(
                info,
                page=page_request(info, first, after, last, before),
                filter_=filter_of(filter),
                order=ordering_of(order_by),
            ),
            Workflow.from_model,
            workflows.count,
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
