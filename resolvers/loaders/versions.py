"""The kept versions of workflows: one aggregation for all the workflows of a batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from models.documents import WorkflowVersion
from resolvers.loaders.base import ScopedLoader

# Newest first, at most this many per workflow (plus one: see `batch_load_fn`).
VERSIONS_LISTED: Final = 50


class WorkflowVersionsByWorkflowIdLoader(ScopedLoader[uuid.UUID, list[WorkflowVersion]]):
    """The snapshots of each workflow, newest first, `[]` for a workflow without any.

    One more than `VERSIONS_LISTED` is loaded: a change interrupted between writing the
    snapshot and bumping the version leaves a snapshot of the current version, which the
    reader drops (`resolvers.workflows.previous_versions`)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[WorkflowVersion]]:
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "organization_id": self.principal.organization_id,
                    "workflow_id": {"$in": list(keys)},
                }
            },
            # $topN keeps only n per group while grouping, whatever the history's length.
            {
                "$group": {
                    "_id": "$workflow_id",
                    "versions": {
                        "$topN": {
                            "n": VERSIONS_LISTED + 1,
                            "sortBy": {"version": -1},
                            "output": "$$ROOT",
                        }
                    },
                }
            },
        ]
        collection = WorkflowVersion.get_pymongo_collection()
        # One group per key: all of them in the first reply (see `DocumentByFieldLoader`).
        cursor = await collection.aggregate(pipeline, batchSize=len(keys) + 1)
        grouped = await cursor.to_list()
        by_workflow = {
            group["_id"]: [WorkflowVersion.model_validate(raw) for raw in group["versions"]]
            for group in grouped
        }
        return [by_workflow.get(key, []) for key in keys]
