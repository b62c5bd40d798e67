"""Enumerations shared by both stores and, through `schema/`, by the GraphQL surface."""

from enum import StrEnum


class UserRole(StrEnum):
    ADMIN = "admin"
    USER = "user"
    VIEWER = "viewer"


class AgentStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    RUNNING = "running"
    PAUSED = "paused"


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_EXECUTION_STATUSES


TERMINAL_EXECUTION_STATUSES = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)


class ExecutionErrorCode(StrEnum):
    """Why the gateway itself ended a run (an engine's or a person's ending has none)."""

    TIMEOUT = "timeout"
    # A human node's approval expired undecided, and the node fails the run on rejection.
    APPROVAL_EXPIRED = "approval_expired"


class NodeType(StrEnum):
    AI = "ai"
    HUMAN = "human"
    DECISION = "decision"
    ACTION = "action"
    TIMER = "timer"


class WorkflowStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class StepStatus(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class ExecutionEventType(StrEnum):
    STATUS_CHANGED = "status_changed"
    STEP_STARTED = "step_started"
    STEP_FINISHED = "step_finished"
    PROGRESS = "progress"
    LOG = "log"
    # Payload {"approvalId", "nodeId", "approvers": [user ids], "message"} (issue 17's
    # contract: notifications react to it).
    APPROVAL_REQUESTED = "approval_requested"
    # Payload {"approvalId", "decision": "approve" | "reject", "decidedBy": user id}.
    APPROVAL_DECIDED = "approval_decided"
    # Payload {"approvalId", "expiresAt"}: undecided in time; the gateway acted on it as the
    # human node acts on a rejection (`resolvers.approvals.expiry`).
    APPROVAL_EXPIRED = "approval_expired"


class ApprovalDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApprovalStatus(StrEnum):
    """Where an approval stands at a given time (`Approval.status_at`): decided either way,
    or undecided and still open or expired."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class ExecutionCommandKind(StrEnum):
    """What an engine is told about a run it executes (`executionCommands`)."""

    APPROVAL_DECIDED = "approval_decided"
    # Nobody decided in time; the run went on as the node goes on after a rejection.
    APPROVAL_EXPIRED = "approval_expired"
    PAUSED = "paused"
    RESUMED = "resumed"
    CANCELLED = "cancelled"


class LogLevel(StrEnum):
    """How much a `LOG` event from an engine matters."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    DELETED = "deleted"


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MessageRole(StrEnum):
    USER = "user"
    AGENT = "agent"
    SYSTEM = "system"
    TOOL = "tool"


class MessageStatus(StrEnum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    STOPPED = "stopped"
    FAILED = "failed"


class ToolCallStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ConversationEventType(StrEnum):
    MESSAGE_CREATED = "message_created"
    REPLY_CHUNK = "reply_chunk"
    TOOL_CALL_STARTED = "tool_call_started"
    TOOL_CALL_FINISHED = "tool_call_finished"
    REPLY_FINISHED = "reply_finished"
    REPLY_STOPPED = "reply_stopped"


class NotificationKind(StrEnum):
    EXECUTION_FAILED = "execution_failed"
    EXECUTION_SUCCEEDED = "execution_succeeded"
    APPROVAL_REQUESTED = "approval_requested"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"  # queued, or waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed, or the webhook was removed
