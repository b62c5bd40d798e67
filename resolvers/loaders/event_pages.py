"""Pages of execution event logs (`Execution.events`): one MongoDB round trip per batch for
the pages, one for the counts, whatever the number of executions on the page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models import documents
from models.enums import ExecutionEventType
from resolvers.loaders.base import ScopedLoader


@dataclass(frozen=True)
class EventPageKey:
    """One execution's page: events of `types` (all when None) after `after_seq`, at most
    `limit` (one more is read to tell whether a next page exists)."""

    execution_id: uuid.UUID
    types: tuple[str, ...] | None
    after_seq: int
    limit: int

    def match(self) -> dict[str, Any]:
        condition: dict[str, Any] = {"execution_id": self.execution_id}
        if self.after_seq:
            condition["seq"] = {"$gt": self.after_seq}
        if self.types is not None:
            condition["type"] = {"$in": list(self.types)}
        return condition


class EventPageByExecutionLoader(ScopedLoader[EventPageKey, list[documents.ExecutionEvent]]):
    """Each key's events in sequence order, up to `limit + 1`. The keys' pipelines run side
    by side in one `$facet`, so keys that differ in cursor or types (aliases) cannot cut
    into each other's pages."""

    async def batch_load_fn(
        self, keys: Sequence[EventPageKey]
    ) -> list[list[documents.ExecutionEvent]]:
        facets = {
            f"k{index}": [
                {"$match": key.match()},
                {"$sort": {"seq": 1}},
                {"$limit": key.limit + 1},
            ]
            for index, key in enumerate(keys)
        }
        collection = documents.ExecutionEvent.get_pymongo_collection()
        pipeline: list[dict[str, Any]] = [
            # The execution ids first (SecantusDB plans on the first field: by the tenant, it
            # read every event of the organization); the tenant too, so that a key of another
            # organization's execution finds nothing.
            {
                "$match": {
                    "execution_id": {"$in": list({key.execution_id for key in keys})},
                    "organization_id": self.principal.organization_id,
                }
            },
            {"$facet": facets},
        ]
        found = await (await collection.aggregate(pipeline)).to_list()
        pages = found[0] if found else {}
        return [
            [documents.ExecutionEvent.model_validate(raw) for raw in pages.get(f"k{index}", [])]
            for index in range(len(keys))
        ]


@dataclass(frozen=True)
class EventCountKey:
    execution_id: uuid.UUID
    types: tuple[str, ...] | None


class EventCountByExecutionLoader(ScopedLoader[EventCountKey, int]):
    """How many events each execution has (of the key's types): counted per execution and
    type in one aggregation, summed per key."""

    async def batch_load_fn(self, keys: Sequence[EventCountKey]) -> list[int]:
        collection = documents.ExecutionEvent.get_pymongo_collection()
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "execution_id": {"$in": list({key.execution_id for key in keys})},
                    "organization_id": self.principal.organization_id,
                }
            },
            {"$group": {"_id": {"e": "$execution_id", "t": "$type"}, "n": {"$sum": 1}}},
        ]
        counts: dict[tuple[uuid.UUID, str], int] = {}
        # All groups in the first reply (at most one per execution and event type): no
        # `getMore` round trip that would grow with the page.
        groups = len(keys) * len(ExecutionEventType) + 1
        for row in await (await collection.aggregate(pipeline, batchSize=groups)).to_list():
            counts[(row["_id"]["e"], row["_id"]["t"])] = int(row["n"])
        return [
            sum(
                n
                for (execution_id, kind), n in counts.items()
                if execution_id == key.execution_id and (key.types is None or kind in key.types)
            )
            for key in keys
        ]
