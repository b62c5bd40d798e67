"""MongoDB collections as Beanie documents. Indexes are declared once, in each document's
`Settings.indexes`, and created idempotently by `init_beanie` at start-up."""

from beanie import Document

from models.documents.common import Connection, FlowNode
from models.documents.execution_event import ExecutionEvent
from models.documents.execution_trace import ExecutionStep, ExecutionTrace
from models.documents.flowchart import Flowchart, FlowchartMetadata
from models.documents.workflow import (
    Workflow,
    WorkflowContent,
    WorkflowPermissions,
    WorkflowSettings,
)
from models.documents.workflow_version import WorkflowVersion

ALL_DOCUMENTS: list[type[Document]] = [
    Flowchart,
    Workflow,
    WorkflowVersion,
    ExecutionTrace,
    ExecutionEvent,
]

__all__ = [
    "ALL_DOCUMENTS",
    "Connection",
    "ExecutionEvent",
    "ExecutionStep",
    "ExecutionTrace",
    "FlowNode",
    "Flowchart",
    "FlowchartMetadata",
    "Workflow",
    "WorkflowContent",
    "WorkflowPermissions",
    "WorkflowSettings",
    "WorkflowVersion",
]
