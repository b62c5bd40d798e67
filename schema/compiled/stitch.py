"""Stitching MongoDB fields into a compiled statement's answer: find the places the statement
left for them in its JSON text (`schema.compiled.sites`), ask each collection once for every
document they name (whatever the nesting level: fewer round trips than the resolvers' one
batch per level, never more), render each document by its field's selection and write its
JSON text in the place.

The answer stays text from PostgreSQL to the socket: only the places are read, and each
document's rendering is kept as JSON text with its bytes (`Stored.rendered`), so a document
seen before costs a dictionary lookup. The collections are asked concurrently, as the
resolvers' loader batches are. No keys, no query: a page without executions of a workflow
asks nothing of the workflows. A document stored canonically is rendered straight from what
MongoDB returned (`schema.compiled.direct`), any other through validation and its type's
`from_model`."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from resolvers.compiled.documents import Projected, Stored, fetch_projected
from schema.compiled.direct import DeviationError
from schema.compiled.documents import DocumentField
from schema.compiled.sites import split

if TYPE_CHECKING:
    from resolvers.loaders import Loaders

# A place's field, its document's key (None: none, not asked for) and the carried columns.
Place = tuple[DocumentField, str | None, list[Any]]


async def stitch(documents: Sequence[DocumentField], text: str, loaders: Loaders) -> str:
    """`text`, a compiled answer with places for `documents`, with every place holding its
    field's JSON value."""
    parts = split(text)
    sites = parts[1::2]
    if not sites:
        return text
    # Each distinct place read once: a workflow shared by a page's executions is one place.
    places: dict[str, Place] = {}
    by_loader: dict[str, list[str]] = defaultdict(list)
    for site in set(sites):
        number, key, *carried = orjson.loads(f"[{site}]")
        field = documents[number]
        places[site] = (field, key, carried)
        by_loader[field.source.loader_name].append(site)
    values: dict[str, str] = {}
    fills = [
        _fill(getattr(loaders, name), [(site, places[site]) for site in named], values)
        for name, named in by_loader.items()
    ]
    # One collection is awaited as it is: `gather` would make it a task of its own.
    await (fills[0] if len(fills) == 1 else asyncio.gather(*fills))
    parts[1::2] = [values[site] for site in sites]
    return "".join(parts)


async def _fill(loader: Any, places: list[tuple[str, Place]], values: dict[str, str]) -> None:
    """Each place's value, in `values` by the place, from one query of `loader`'s
    collection for all of their documents."""
    keys = {key for _, (_, key, _) in places if key is not None}
    found: Projected | None = None
    if keys:
        projection = {path for _, (field, _, _) in places for path in field.projection}
        found = await fetch_projected(loader, keys, projection)
    for site, (field, key, carried) in places:
        # A null key (an execution of no workflow, one that has ended): the resolver
        # answers without asking MongoDB.
        stored = found.raw.get(key) if found is not None and key is not None else None
        values[site] = _render(field, found, stored, carried)


def _render(
    field: DocumentField, found: Projected | None, stored: Stored | None, carried: list[Any]
) -> str:
    """The field's JSON value for the document `stored` (None: not found): straight from it
    when it is canonical (as rendered before for the same bytes, if it was), else through
    validation and the field's `from_model`."""
    direct = field.direct
    if stored is not None and found is not None:
        if direct is not None:
            kept = stored.rendered.get(id(field))
            if kept is not None and kept[0] is field:
                return kept[1]
            if found.canonical(stored):
                try:
                    value = direct(found.decoded(stored))
                except DeviationError:
                    pass  # something `from_model` does not just copy: it renders this one
                else:
                    text = _json(value)
                    stored.rendered[id(field)] = (field, text)
                    return text
        document = found.validated(stored)
    else:
        document = None
    return _json(field.render(field.source.value(document, *carried)))


def _json(value: Any) -> str:
    """A field's value as its answer writes it (`flowgate.router`)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
