"""The latest audit entries of many objects at once (`Agent.history`, `Workflow.history`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased

from models.sql import AuditLogEntry
from resolvers.loaders.base import ScopedLoader

# (object type, object id as logged, how many of the latest entries)
HistoryKey = tuple[str, str, int]


class AuditEntriesByObjectLoader(ScopedLoader[HistoryKey, list[AuditLogEntry]]):
    async def batch_load_fn(self, keys: Sequence[HistoryKey]) -> list[list[AuditLogEntry]]:
        # One query for every object of the page: each object's entries are numbered newest
        # first, and only as many as the largest request are kept.
        objects = {(object_type, object_id) for object_type, object_id, _ in keys}
        most = max(limit for _, _, limit in keys)
        numbered = (
            select(
                AuditLogEntry,
                func.row_number()
                .over(
                    partition_by=(AuditLogEntry.object_type, AuditLogEntry.object_id),
                    order_by=AuditLogEntry.id.desc(),
                )
                .label("position"),
            )
            .where(
                AuditLogEntry.organization_id == self.principal.organization_id,
                tuple_(AuditLogEntry.object_type, AuditLogEntry.object_id).in_(list(objects)),
            )
            .subquery()
        )
        entry = aliased(AuditLogEntry, numbered)
        query = select(entry).where(numbered.c.position <= most).order_by(entry.id.desc())
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        by_object: dict[tuple[str, str], list[AuditLogEntry]] = {}
        for row in rows:
            by_object.setdefault((row.object_type, row.object_id), []).append(row)
        return [by_object.get((t, i), [])[:limit] for t, i, limit in keys]
