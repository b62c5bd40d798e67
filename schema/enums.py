"""GraphQL enums, exposed from the domain enums so the two never drift apart."""

import strawberry

from models import enums

AgentStatus = strawberry.enum(enums.AgentStatus, description="Whether an agent can be run.")
ExecutionStatus = strawberry.enum(
    enums.ExecutionStatus, description="Where an execution is in its lifecycle."
)
NodeType = strawberry.enum(enums.NodeType, description="What a flowchart node does.")
UserRole = strawberry.enum(enums.UserRole, description="What a user may do.")
WorkflowStatus = strawberry.enum(enums.WorkflowStatus, description="A workflow's lifecycle.")
StepStatus = strawberry.enum(enums.StepStatus, description="The outcome of one step.")
