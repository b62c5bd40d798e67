"""Single objects by key."""

from __future__ import annotations

from typing import Any

from models import documents, sql
from resolvers.access import readable_workflows
from resolvers.loaders.base import DocumentByFieldLoader, SqlRowByIdLoader


class AgentByIdLoader(SqlRowByIdLoader[sql.Agent]):
    # Soft-deleted agents load too: an execution of a deleted agent still shows its agent.
    model = sql.Agent


class UserByIdLoader(SqlRowByIdLoader[sql.User]):
    model = sql.User


class ExecutionByIdLoader(SqlRowByIdLoader[sql.Execution]):
    model = sql.Execution


class WorkflowByIdLoader(DocumentByFieldLoader[documents.Workflow]):
    document = documents.Workflow
    field = "_id"
    attribute = "id"

    def scope(self) -> dict[str, Any]:
        # A workflow the principal may not read does not load: it is "not found".
        return readable_workflows(self.principal)


class FlowchartByAgentIdLoader(DocumentByFieldLoader[documents.Flowchart]):
    document = documents.Flowchart
    field = "agent_id"
    attribute = "agent_id"


class TraceByExecutionIdLoader(DocumentByFieldLoader[documents.ExecutionTrace]):
    document = documents.ExecutionTrace
    field = "execution_id"
    attribute = "execution_id"
