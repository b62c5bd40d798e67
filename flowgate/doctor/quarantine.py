"""Quarantine instead of deletion: what doctor would remove is moved, whole, to a
collection named `quarantine.<collection>` with when and why, and can be moved back by
hand. Copied first, then removed: a failure between the two leaves a copy, never a loss."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import BulkWriteError

from models.documents import ExecutionEvent, ExecutionTrace
from models.sql.base import utcnow

PREFIX = "quarantine."


async def quarantine(collection: Any, query: Mapping[str, Any], reason: str) -> int:
    """Move the documents matching `query`; how many were moved."""
    documents = await collection.find(query).to_list(None)
    if not documents:
        return 0
    holding = collection.database[PREFIX + collection.name]
    stamped = [
        {**document, "_quarantine": {"at": utcnow(), "reason": reason}} for document in documents
    ]
    try:
        await holding.insert_many(stamped, ordered=False)
    except BulkWriteError as error:
        # Quarantined before (a repair interrupted after the copy): keep the first copy.
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise
    result = await collection.delete_many({"_id": {"$in": [d["_id"] for d in documents]}})
    return int(result.deleted_count)


async def quarantine_execution(execution_id: object, reason: str) -> int:
    """An execution's trace and its event log."""
    moved = await quarantine(
        ExecutionEvent.get_pymongo_collection(), {"execution_id": execution_id}, reason
    )
    return moved + await quarantine(
        ExecutionTrace.get_pymongo_collection(), {"execution_id": execution_id}, reason
    )
