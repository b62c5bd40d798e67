import uuid
from datetime import datetime

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from models.documents.common import Connection, FlowNode
from models.sql.base import utcnow

__all__ = ["Connection", "FlowNode", "Flowchart", "FlowchartMetadata"]


class FlowchartMetadata(BaseModel):
    title: str = ""
    description: str = ""
    layout: str = "horizontal"


class Flowchart(Document):
    """The graph an agent runs: one per agent, versioned for optimistic concurrency."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)  # type: ignore[assignment]
    organization_id: uuid.UUID
    agent_id: uuid.UUID
    version: int = 1
    nodes: list[FlowNode] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)
    metadata: FlowchartMetadata = Field(default_factory=FlowchartMetadata)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "flowcharts"
        indexes = [
            IndexModel([("agent_id", ASCENDING)], unique=True, name="agent_id_unique"),
            IndexModel([("organization_id", ASCENDING)], name="organization_id"),
        ]
