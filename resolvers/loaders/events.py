"""Execution events by id (search results that are events)."""

from __future__ import annotations

from models import documents
from resolvers.loaders.base import DocumentByFieldLoader


class ExecutionEventByIdLoader(DocumentByFieldLoader[documents.ExecutionEvent]):
    document = documents.ExecutionEvent
    field = "_id"
    attribute = "id"
