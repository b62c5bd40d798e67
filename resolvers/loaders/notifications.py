"""Loaders of the notifications domain: a workflow's webhook, a delivery's attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from models import sql
from resolvers.loaders.base import ScopedLoader
from resolvers.loaders.conversations import _ListByParentLoader
from resolvers.loaders.keys import in_keys


class WebhookByWorkflowIdLoader(ScopedLoader[uuid.UUID, "sql.WorkflowWebhook | None"]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[sql.WorkflowWebhook | None]:
        query = select(sql.WorkflowWebhook).where(
            in_keys(sql.WorkflowWebhook.workflow_id, keys),
            sql.WorkflowWebhook.organization_id == self.principal.organization_id,
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        by_id = {row.workflow_id: row for row in rows}
        return [by_id.get(key) for key in keys]


class AttemptsByDeliveryIdLoader(_ListByParentLoader):
    model = sql.WebhookAttempt
    parent = "delivery_id"
    order = "attempt"
