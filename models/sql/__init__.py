"""PostgreSQL tables. Importing this package registers every table on `Base.metadata`,
which is what Alembic compares the migrations against."""

from models.sql.agent import Agent
from models.sql.api_key import ApiKey
from models.sql.audit import AuditLogEntry
from models.sql.auth_session import AuthSession
from models.sql.base import Base
from models.sql.execution import Execution
from models.sql.idempotency import IdempotencyKey
from models.sql.invite import Invite
from models.sql.organization import Organization
from models.sql.outbox import ExecutionOutboxEntry
from models.sql.search import SearchDocumentRow, SearchOutboxEntry
from models.sql.user import User

__all__ = [
    "Agent",
    "ApiKey",
    "AuditLogEntry",
    "AuthSession",
    "Base",
    "Execution",
    "ExecutionOutboxEntry",
    "IdempotencyKey",
    "Invite",
    "Organization",
    "SearchDocumentRow",
    "SearchOutboxEntry",
    "User",
]
