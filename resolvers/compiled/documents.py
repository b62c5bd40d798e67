"""The MongoDB side of compiled execution: the documents of one field of a compiled root, for
every key its statement returned, in one query with a projection of just the fields asked
for.

Each field reads through its loader's access path (`resolvers.loaders`: the collection, the
key field and the scope, which for workflows is the readable-workflows filter of
`models.access`), so the documents found are the ones the resolvers would load. They are
validated as the resolvers' loads validate them (the Beanie document's own field types,
defaults and coercions), only for the fields projected."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel, create_model

from resolvers.loaders.base import DocumentByFieldLoader


async def fetch_projected(
    loader: DocumentByFieldLoader[Any], keys: Sequence[uuid.UUID], fields: Iterable[str]
) -> dict[uuid.UUID, Any]:
    """The documents of `keys` by key (absent: not found), each a `loader.document` holding
    the projected `fields` (dotted paths name sub-fields of a list of sub-documents)."""
    document = loader.document
    projection = dict.fromkeys(sorted({*fields, loader.field}), 1)
    model = projected_model(document, frozenset(path.split(".", 1)[0] for path in projection))

    async def read() -> dict[uuid.UUID, Any]:
        # As the loader asks: the key field first, every match in the first batch.
        cursor = document.get_pymongo_collection().find(
            {loader.field: {"$in": list(keys)}, **loader.scope()},
            projection,
            batch_size=len(keys) + 1,
        )
        found: dict[uuid.UUID, Any] = {}
        async for raw in cursor:
            found[raw[loader.field]] = construct(document, model.model_validate(raw))
        return found

    # Through the loader's guard: when MongoDB is unreachable, the resolvers that answer
    # instead fail at once rather than wait out a second store timeout.
    return await loader.reading(read)


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
    values = dict.fromkeys(
        (name for name, info in document.model_fields.items() if info.is_required()), None
    )
    values.update(validated.__dict__)
    return document.model_construct(**values)


def stored_name(document: type[BaseModel], name: str) -> str | None:
    """The field's name in MongoDB (`id` is `_id`), or None if the document has no such field."""
    info = document.model_fields.get(name)
    if info is None:
        return None
    return info.alias or name
