"""The two shapes every loader takes: rows by key from PostgreSQL, documents by key from
MongoDB."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader
from beanie import Document
from sqlalchemy import ColumnElement, select

from flowgate import tracing
from flowgate.principal import Principal
from flowgate.services import Services
from flowgate.stores.errors import unreachable_store
from resolvers.loaders.keys import in_keys

KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")
ModelT = TypeVar("ModelT")
ReadT = TypeVar("ReadT")
DocumentT = TypeVar("DocumentT", bound=Document)


class ScopedLoader(DataLoader[KeyT, ValueT], Generic[KeyT, ValueT]):
    """A loader bound to one request's services and principal."""

    def __init__(self, services: Services, principal: Principal) -> None:
        super().__init__(batch=services.settings.loader_batching)
        self.services = services
        self.principal = principal
        if tracing.enabled():  # checked once per request's loader, not per batch
            self.batch_load_fn = tracing.traced_batch(type(self).__name__, self.batch_load_fn)


class SqlRowByIdLoader(ScopedLoader[uuid.UUID, ModelT | None], Generic[ModelT]):
    """Rows of `model` by primary key, within the principal's organization."""

    model: ClassVar[Any]

    async def visible(self) -> list[ColumnElement[bool]]:
        """What else a row must satisfy for the principal to see it."""
        return []

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[ModelT | None]:
        model = self.model
        query = select(model).where(
            model.organization_id == self.principal.organization_id,
            in_keys(model.id, keys),
            *await self.visible(),
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class DocumentByFieldLoader(ScopedLoader[uuid.UUID, DocumentT | None], Generic[DocumentT]):
    """Documents of `document` by a unique field, within the principal's organization."""

    document: ClassVar[Any]
    field: ClassVar[str]  # as stored in MongoDB (`_id`, `agent_id`)
    attribute: ClassVar[str]  # as read off the Beanie document (`id`, `agent_id`)

    # Set when a batch found MongoDB unreachable: the loader lives for one request, and
    # asking again in it (the resolvers answering after the compiled path's stitching failed,
    # or a second nesting level) would only wait out another store timeout.
    _unreachable: BaseException | None = None

    def scope(self) -> dict[str, Any]:
        """The documents the principal may see at all: its organization's."""
        return {"organization_id": self.principal.organization_id}

    async def reading(self, read: Callable[[], Awaitable[ReadT]]) -> ReadT:
        """Run `read` (a query of this loader's collection for the request), unless MongoDB
        was found unreachable earlier in the request: then fail at once, as it did."""
        if self._unreachable is not None:
            raise self._unreachable
        try:
            return await read()
        except Exception as error:
            if unreachable_store(error):
                self._unreachable = error
            raise

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[DocumentT | None]:
        return await self.reading(lambda: self._batch_load(keys))

    async def _batch_load(self, keys: Sequence[uuid.UUID]) -> list[DocumentT | None]:
        # Values go into the filter as BSON values, never as query operators: a key is a UUID.
        # batch_size: all matches in the first reply. The server's default first batch is 101
        # documents, so a page of 500 keys would cost a `getMore` too: a round trip that
        # grows with the rows, which is what loaders exist to prevent.
        # The key field first: SecantusDB plans on the filter's first field, and on
        # organization_id it read every document of the tenant (13 s for 200 of 30,000
        # traces, 0.1 s this way round); MongoDB picks the unique index either way.
        found = await self.document.find(
            {self.field: {"$in": list(keys)}, **self.scope()},
            batch_size=len(keys) + 1,  # +1: the cursor is exhausted, no killCursors
        ).to_list()
        by_key = {getattr(document, self.attribute): document for document in found}
        return [by_key.get(key) for key in keys]
