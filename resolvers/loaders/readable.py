"""The ids of the workflows the request's principal may read: asked of MongoDB at most once
per request (never for an admin), however many loaders and fields need them."""

from __future__ import annotations

import asyncio

from flowgate.principal import Principal
from flowgate.services import Services
from resolvers import access


class ReadableWorkflowIds:
    def __init__(self, services: Services, principal: Principal) -> None:
        self.services = services
        self.principal = principal
        self._task: asyncio.Future[frozenset[str] | None] | None = None

    async def get(self) -> frozenset[str] | None:
        """`None`: every workflow of the organization (see `access.readable_workflow_ids`)."""
        if self._task is None:
            self._task = asyncio.ensure_future(
                access.readable_workflow_ids(self.services.mongo, self.principal)
            )
        # Shielded: one caller cancelled (a client gone) must not fail the others' wait.
        return await asyncio.shield(self._task)
