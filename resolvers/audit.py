"""The audit log: who changed what, when and from where.

A change to PostgreSQL adds its entry to the same session, so the two commit or roll back
together (`add_entry`). A change to MongoDB cannot share that transaction; its entry is
written once the document write has succeeded (`write_entry`)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson

from flowgate.principal import CredentialKind
from flowgate.search.outbox import mark_stale
from models.sql import AuditLogEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context

# Values up to this many bytes of JSON are kept in the summary; larger ones are only named.
SMALL_VALUE_BYTES: Final = 200
_MISSING: Final = object()


def entry(
    info: Info[Context],
    *,
    action: str,
    object_type: str,
    object_id: object,
    summary: dict[str, Any],
    actor: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> AuditLogEntry:
    """`actor` (organization id, user id) names who acted when the request has no principal
    yet: a login."""
    if actor is None:
        principal = info.context.principal
        actor = (principal.organization_id, principal.user_id)
        actor_type = "api_key" if principal.credential.kind is CredentialKind.API_KEY else "user"
    else:
        actor_type = "user"
    return AuditLogEntry(
        organization_id=actor[0],
        actor_id=actor[1],
        actor_type=actor_type,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
        client_address=client_address(info),
    )


def add_entry(session: AsyncSession, info: Info[Context], **fields: Any) -> None:
    """Add the entry to `session`: it commits with the change it records, and so does the
    search outbox entry that has the changed object reindexed."""
    row = entry(info, **fields)
    session.add(row)
    mark_stale(session, row.organization_id, row.object_type, row.object_id)


async def write_entry(info: Info[Context], **fields: Any) -> None:
    """Write the entry in its own transaction, for changes made outside PostgreSQL."""
    async with info.context.services.postgres.session() as session, session.begin():
        row = entry(info, **fields)
        session.add(row)
        mark_stale(session, row.organization_id, row.object_type, row.object_id)


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


def client_address(info: Info[Context]) -> str | None:
    """The peer address of the HTTP request or websocket, if there is one that PostgreSQL's
    `inet` accepts (test clients report names such as `testclient`)."""
    request = info.context.request
    host = request.client.host if request is not None and request.client is not None else None
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    # Through orjson: datetimes, UUIDs and enums become what the JSONB column can hold.
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(dict(values)))
    return loaded


def _small(value: Any) -> bool:
    return len(orjson.dumps(value)) <= SMALL_VALUE_BYTES
