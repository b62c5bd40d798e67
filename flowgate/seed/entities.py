"""What the generators produce, before anything is written: small records that know how to
turn themselves into a PostgreSQL row (a dict of column values, for a bulk `INSERT`) or a
MongoDB document (a dict in the shape the Beanie document loads, `_id` included).

Every timestamp is whole milliseconds: MongoDB keeps no finer precision, and data read back
from either store then compares equal to what was generated."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from models.documents import WorkflowContent
from models.enums import AgentStatus, UserRole, WorkflowStatus

Row = dict[str, Any]
Doc = dict[str, Any]


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4-shaped UUID drawn from the seeded generator, so ids repeat per seed."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def shift(moment: datetime, milliseconds: float) -> datetime:
    return moment + timedelta(milliseconds=int(milliseconds))


def micros_to_decimal(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


@dataclass(slots=True)
class OrgSeed:
    id: uuid.UUID
    name: str
    slug: str
    created_at: datetime

    def row(self) -> Row:
        return {"id": self.id, "name": self.name, "slug": self.slug, "created_at": self.created_at}


@dataclass(slots=True)
class UserSeed:
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    role: UserRole
    password_hash: str
    created_at: datetime

    def row(self) -> Row:
        return {
            "id": self.id,
            "organization_id": self.organization_id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "password_hash": self.password_hash,
            "is_active": True,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


@dataclass(slots=True)
class AgentSeed:
    id: uuid.UUID
    organization_id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    description: str
    status: AgentStatus
    category: str
    configuration: dict[str, Any]
    capabilities: list[str]
    created_at: datetime
    updated_at: datetime
    # Filled in from the executions once they exist.
    execution_count: int = 0
    last_execution_at: datetime | None = None
    popularity: float = 1.0

    @property
    def provider(self) -> str:
        return str(self.configuration["provider"])

    @property
    def model(self) -> str:
        return str(self.configuration["model"])

    def row(self) -> Row:
        return {
            "id": self.id,
            "organization_id": self.organization_id,
            "owner_id": self.owner_id,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "category": self.category,
            "configuration": self.configuration,
            "capabilities": self.capabilities,
            "last_execution_at": self.last_execution_at,
            "execution_count": self.execution_count,
            "deleted_at": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class WorkflowSeed:
    id: uuid.UUID
    organization_id: uuid.UUID
    status: WorkflowStatus
    agents: list[AgentSeed]  # the agents its nodes call
    created_at: datetime
    updated_at: datetime
    version: int
    created_by: uuid.UUID
    content: WorkflowContent  # built by the model: a content field has its value or default
    weight: float = 1.0
    ran_until: float = 1.0  # the timeline share at which it was archived (1: still runs)

    def doc(self) -> Doc:
        return {
            "_id": self.id,
            "organization_id": self.organization_id,
            "version": self.version,
            **content_doc(self.content),
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def content_doc(content: WorkflowContent) -> Doc:
    """Every content field, as a workflow or a snapshot of it stores them (the enums are
    strings, the user ids standard UUIDs, to pymongo)."""
    return content.model_dump()
