"""The audit log: who changed what, when and from where.

A change to PostgreSQL adds its entry to the same session, so the two commit or roll back
together (`add_entry`). Changes to objects that search indexes are recorded through
`resolvers.changes`, which adds the entry and queues the reindex together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson

from models.sql import AuditLogEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.principal import Actor

# Values up to this many bytes of JSON are kept in the summary; larger ones are only named.
SMALL_VALUE_BYTES: Final = 200
_MISSING: Final = object()


def entry(
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: object,
    summary: dict[str, Any],
) -> AuditLogEntry:
    return AuditLogEntry(
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
        actor_type=actor.kind,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
        client_address=actor.address,
    )


def add_entry(session: AsyncSession, actor: Actor, **fields: Any) -> AuditLogEntry:
    """Add the entry to `session`: it commits with the change it records. A change to an
    object that search indexes goes through `resolvers.changes.record_change` instead, which
    also has the object reindexed."""
    row = entry(actor, **fields)
    session.add(row)
    return row


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`{"changed": [names], "old": {...}, "new": {...}}` over the fields of `after` whose
    value differs from `before`; old and new values only when small."""
    old, new = _jsonable(before), _jsonable(after)
    changed = [name for name in new if old.get(name, _MISSING) != new[name]]
    return {
        "changed": changed,
        "old": {name: old[name] for name in changed if name in old and _small(old[name])},
        "new": {name: new[name] for name in changed if _small(new[name])},
    }


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    # Through orjson: datetimes, UUIDs and enums become what the JSONB column can hold.
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(dict(values)))
    return loaded


def _small(value: Any) -> bool:
    return len(orjson.dumps(value)) <= SMALL_VALUE_BYTES
