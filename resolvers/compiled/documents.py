"""The MongoDB side of compiled execution: the documents of one field of a compiled root, for
every key its statement returned, in one query with a projection of just the fields asked
for.

Each field reads through its loader's access path (`resolvers.loaders`: the collection, the
key field and the scope, which for workflows is the readable-workflows filter of
`models.access`), so the documents found are the ones the resolvers would load. A document
stored as its model would validate it unchanged is used as decoded; any other is validated
as the resolvers' loads validate it (the Beanie document's own field types, defaults and
coercions), only for the fields projected (`Projected`)."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from bson import decode
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pydantic import BaseModel, create_model
from sqlalchemy import ColumnElement, FromClause

from flowgate.stores.uuids import uuid_binaries
from models.enums import TERMINAL_EXECUTION_STATUSES
from resolvers.compiled.cache import BoundedCache
from resolvers.compiled.canonical import checker
from resolvers.loaders.base import DocumentByFieldLoader


class Stored:
    """One projected document as MongoDB returned it (its BSON), with its key and what each
    compiled field made of it (its JSON text).

    A field's rendering of a canonical document is a function of its selection and the
    document's bytes alone, so it is kept here (`rendered`, by the field) and used again for
    the same bytes: the documents an agent console asks for again and again (flowcharts,
    workflows, the traces of ended executions) are decoded, checked and rendered once, not on
    every request (those three were most of the CPU of a compiled answer with MongoDB
    fields, issue 16). The bytes come from this request's query, scope included: a document
    the principal may not read is never looked up."""

    __slots__ = ("bson", "key", "rendered")

    def __init__(self, bson: bytes, key: Any) -> None:
        self.bson = bson
        self.key = key
        # By the id of the field (held too, so that its id is not reused while kept here).
        self.rendered: dict[int, tuple[object, str]] = {}


# The documents read lately, by collection and bytes: their keys, and their renderings.
STORED_CACHE_SIZE = 4096
_stored: BoundedCache[Stored] = BoundedCache(STORED_CACHE_SIZE)


@dataclass
class Projected:
    """The documents found for some keys (projected), and what a compiled answer makes of
    each: canonical ones are rendered straight from their decoded BSON
    (`schema.compiled.direct`), the others validated as the resolvers' loads validate them
    (the Beanie document's own field types, defaults and coercions, for the fields
    projected), a validation error failing the compiled answer as before."""

    document: type[BaseModel]
    fields: frozenset[str]  # the projection, key field included
    raw: dict[str, Stored]  # by key, as PostgreSQL writes a UUID
    codec_options: CodecOptions[Any]
    # Decoded in this request (a document new to the cache already was, for its key).
    _decoded: dict[int, dict[str, Any]] = field(default_factory=dict)
    _checked: dict[int, bool] = field(default_factory=dict)

    def decoded(self, stored: Stored) -> dict[str, Any]:
        decoded = self._decoded.get(id(stored))
        if decoded is None:
            decoded = self._decoded[id(stored)] = decode(stored.bson, self.codec_options)
        return decoded

    def canonical(self, stored: Stored) -> bool:
        checked = self._checked.get(id(stored))
        if checked is None:
            check = checker(self.document, self.fields)
            checked = check is not None and check(self.decoded(stored))
            self._checked[id(stored)] = checked
        return checked

    def validated(self, stored: Stored) -> Any:
        names = frozenset(path.split(".", 1)[0] for path in self.fields)
        model = projected_model(self.document, names)
        return construct(self.document, model.model_validate(self.decoded(stored)))


async def fetch_projected(
    loader: DocumentByFieldLoader[Any], keys: Collection[str], fields: Iterable[str]
) -> Projected:
    """The documents of `keys` (UUIDs as PostgreSQL writes them) by key (absent: not
    found), each holding the projected `fields` (dotted paths name sub-fields of a list of
    sub-documents)."""
    document = loader.document
    projection = dict.fromkeys(sorted({*fields, loader.field}), 1)
    collection = document.get_pymongo_collection()
    database, options = collection.database, collection.codec_options
    # Each document is left as its bytes: a document seen before is not decoded again.
    raw_options = options.with_options(document_class=RawBSONDocument)
    found: dict[str, Stored] = {}
    decoded: dict[int, dict[str, Any]] = {}

    def keep(batch: list[RawBSONDocument]) -> None:
        for each in batch:
            bson = bytes(each.raw)  # a copy only if it is a view, which cannot be a key
            # By collection too: its key field is read from the bytes by its loader's name.
            cached = (collection.name, bson)
            stored = _stored.get(cached)
            if stored is None:
                whole = decode(bson, options)
                stored = Stored(bson, _key_text(whole[loader.field]))
                _stored.put(cached, stored)
                decoded[id(stored)] = whole
            found[stored.key] = stored

    async def read() -> None:
        # As the loader asks: the key field first, every match in the first batch. One
        # `find` command rather than a cursor: the same command on the wire, without the
        # cursor's machinery around it (most of the CPU of the MongoDB step); a reply that
        # does not hold every match (over 16 MiB) is followed by `getMore` as a cursor would.
        reply = await database.command(
            {
                "find": collection.name,
                "filter": {loader.field: {"$in": _uuids(keys, options)}, **loader.scope()},
                "projection": projection,
                "batchSize": len(keys) + 1,  # +1: the cursor is exhausted, no killCursors
            },
            codec_options=raw_options,
        )
        cursor = reply["cursor"]
        keep(cursor["firstBatch"])
        while cursor["id"]:
            more = {"getMore": cursor["id"], "collection": collection.name}
            cursor = (await database.command(more, codec_options=raw_options))["cursor"]
            keep(cursor["nextBatch"])

    # Through the loader's guard: when MongoDB is unreachable, the resolvers that answer
    # instead fail at once rather than wait out a second store timeout.
    await loader.reading(read)
    return Projected(document, frozenset(projection), found, options, decoded)


def _uuids(keys: Collection[str], options: CodecOptions[Any]) -> list[Any]:
    """The keys as BSON values, in order. Made here as the client's standard representation
    stores them: pymongo's encoder converts each `uuid.UUID` through Python
    (`Binary.from_uuid`), and parsing and sorting `uuid.UUID`s is Python too; together most
    of the CPU of a MongoDB field's query outside pymongo (issue 16)."""
    if options.uuid_representation != UuidRepresentation.STANDARD:
        return [uuid.UUID(key) for key in sorted(keys)]
    return uuid_binaries(keys)


def _key_text(key: Any) -> Any:
    """A stored key as PostgreSQL writes a UUID (anything else as it is: it matches none)."""
    return str(key) if isinstance(key, uuid.UUID) else key


@cache
def projected_model(document: type[BaseModel], names: frozenset[str]) -> type[BaseModel]:
    """A model of the document's fields stored under `names` (their own types, defaults and
    aliases), to validate a projected document as the whole document would be."""
    fields = {
        name: (info.annotation, info)
        for name, info in document.model_fields.items()
        if (info.alias or name) in names
    }
    return create_model(f"{document.__name__}Projection", **fields)  # type: ignore[call-overload,no-any-return]


def construct(document: type[BaseModel], validated: BaseModel) -> Any:
    """The document with the validated fields; the others at their defaults, or None where
    it has none (never read: the selection did not ask for them)."""
    given = validated.__dict__
    values: dict[str, Any] = {}
    for name, fill in _fillers(document):
        if name in given:
            values[name] = given[name]
        elif fill is not None:
            values[name] = fill()
    # What `model_construct` would count as set: the validated fields and the None ones.
    fields_set = {*given, *(n for n, i in document.model_fields.items() if i.is_required())}
    return document.model_construct(fields_set, **values)


Filler = Callable[[], Any]


def _none() -> None:
    return None


@cache
def _fillers(document: type[BaseModel]) -> tuple[tuple[str, Filler | None], ...]:
    """How `construct` fills each field the projection left out, found once per document
    class: `model_construct` asks pydantic, which inspects every default factory's signature
    on every call (2.5 ms of CPU per workflow under the profiler; most of Q5). A factory is
    still called per document (a fresh list each); one that reads the validated data (None
    here) is left to `model_construct`."""
    fillers: list[tuple[str, Filler | None]] = []
    for name, info in document.model_fields.items():
        fill: Filler | None
        if info.is_required():
            fill = _none
        elif info.default_factory is None:
            fill = partial(info.get_default, call_default_factory=True)  # a copy if mutable
        elif info.default_factory_takes_validated_data:
            fill = None
        else:
            fill = typing.cast(Filler, info.default_factory)
        fillers.append((name, fill))
    return tuple(fillers)


def stored_name(document: type[BaseModel], name: str) -> str | None:
    """The field's name in MongoDB (`id` is `_id`), or None if the document has no such field."""
    info = document.model_fields.get(name)
    if info is None:
        return None
    return info.alias or name


def live_execution(table: FromClause) -> ColumnElement[bool]:
    """An execution not yet ended (`ExecutionStatus.is_terminal`'s statuses), over an alias
    of the executions: only such a one has a current node worth asking its trace for."""
    return table.c.status.not_in(TERMINAL_EXECUTION_STATUSES)
