"""GraphQL enums, exposed from the domain enums so the two never drift apart."""

import strawberry

from models import enums
from models.enums import (
    AgentStatus,
    ExecutionErrorCode,
    ExecutionEventType,
    ExecutionStatus,
    LogLevel,
    NodeType,
    StepStatus,
    UserRole,
    WorkflowStatus,
)

__all__ = [
    "AgentStatus",
    "ExecutionErrorCode",
    "ExecutionEventType",
    "ExecutionStatus",
    "LogLevel",
    "NodeType",
    "StepStatus",
    "UserRole",
    "WorkflowStatus",
]

# Registered on the domain enums themselves (`strawberry.enum` returns its argument), so that
# annotations name a class type checkers understand; the names above are those classes. Schema
# modules import them from here, never from `models.enums`: the import that names the enum is
# the one that registers it (tests/test_single_sources.py checks it).
strawberry.enum(enums.AgentStatus, description="Whether an agent can be run.")
strawberry.enum(enums.ExecutionStatus, description="Where an execution is in its lifecycle.")
strawberry.enum(enums.NodeType, description="What a flowchart node does.")
strawberry.enum(enums.UserRole, description="What a user may do.")
strawberry.enum(enums.WorkflowStatus, description="A workflow's lifecycle.")
strawberry.enum(enums.StepStatus, description="The outcome of one step.")
strawberry.enum(enums.ExecutionErrorCode, description="Why the gateway itself ended an execution.")
strawberry.enum(enums.LogLevel, description="How much a log line from an engine matters.")
strawberry.enum(enums.ExecutionEventType, description="What an execution event records.")
