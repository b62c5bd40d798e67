"""PostgreSQL tables. Importing this package registers every table on `Base.metadata`,
which is what Alembic compares the migrations against."""

from models.sql.agent import Agent
from models.sql.api_key import ApiKey
from models.sql.approval import Approval, ExecutionCommand
from models.sql.audit import AuditLogEntry
from models.sql.auth_session import AuthSession
from models.sql.base import Base
from models.sql.conversation import Conversation, ConversationEvent
from models.sql.execution import Execution
from models.sql.idempotency import IdempotencyKey
from models.sql.invite import Invite
from models.sql.message import Attachment, Message, ToolCall
from models.sql.notification import Notification, NotificationCounter
from models.sql.organization import Organization
from models.sql.outbox import ExecutionOutboxEntry
from models.sql.project import Project, ProjectAgent
from models.sql.search import SearchDocumentRow, SearchOutboxEntry
from models.sql.user import User
from models.sql.webhook import WebhookAttempt, WebhookDelivery, WorkflowWebhook

__all__ = [
    "Agent",
    "ApiKey",
    "Approval",
    "Attachment",
    "AuditLogEntry",
    "AuthSession",
    "Base",
    "Conversation",
    "ConversationEvent",
    "Execution",
    "ExecutionCommand",
    "ExecutionOutboxEntry",
    "IdempotencyKey",
    "Invite",
    "Message",
    "Notification",
    "NotificationCounter",
    "Organization",
    "Project",
    "ProjectAgent",
    "SearchDocumentRow",
    "SearchOutboxEntry",
    "ToolCall",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WorkflowWebhook",
]
