"""Single objects by key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from flowgate.principal import Principal
from flowgate.services import Services
from models import documents, sql
from resolvers import access
from resolvers.loaders.base import DocumentByFieldLoader, SqlRowByIdLoader
from resolvers.loaders.readable import ReadableWorkflowIds


class AgentByIdLoader(SqlRowByIdLoader[sql.Agent]):
    # Soft-deleted agents load too: an execution of a deleted agent still shows its agent.
    model = sql.Agent


class UserByIdLoader(SqlRowByIdLoader[sql.User]):
    model = sql.User


class ExecutionByIdLoader(SqlRowByIdLoader[sql.Execution]):
    """An execution of a workflow the principal may not read does not load: "not found"."""

    model = sql.Execution

    def __init__(
        self, services: Services, principal: Principal, readable: ReadableWorkflowIds
    ) -> None:
        super().__init__(services, principal)
        self.readable = readable

    async def visible(self) -> list[ColumnElement[bool]]:
        return [access.execution_visible(self.principal, await self.readable.get())]


class WorkflowByIdLoader(DocumentByFieldLoader[documents.Workflow]):
    document = documents.Workflow
    field = "_id"
    attribute = "id"

    def scope(self) -> dict[str, Any]:
        # A workflow the principal may not read does not load: it is "not found".
        return access.readable_workflows(self.principal)


class FlowchartByAgentIdLoader(DocumentByFieldLoader[documents.Flowchart]):
    document = documents.Flowchart
    field = "agent_id"
    attribute = "agent_id"


class TraceByExecutionIdLoader(DocumentByFieldLoader[documents.ExecutionTrace]):
    document = documents.ExecutionTrace
    field = "execution_id"
    attribute = "execution_id"
