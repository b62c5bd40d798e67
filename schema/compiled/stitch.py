"""Stitching MongoDB fields into a compiled statement's answer: find where the plan put
their keys, ask each collection once for all of them (whatever the nesting level: fewer
round trips than the resolvers' one batch per level, never more), render each document by
its field's selection and put it in the key's place.

The collections are asked concurrently, as the resolvers' loader batches are. No keys, no
query: a page without executions of a workflow asks nothing of the workflows. A document
stored canonically is rendered straight from what MongoDB returned (`schema.compiled.direct`),
any other through validation and its type's `from_model`."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from resolvers.compiled.documents import Projected, Stored, fetch_projected
from schema.compiled.direct import DeviationError
from schema.compiled.documents import DocumentField
from schema.compiled.plan import ConnectionPlan, EdgesPlan, ListPlan, ObjectPlan, Relation

if TYPE_CHECKING:
    from resolvers.loaders import Loaders

# Where a document field's key sits in the answer: (the object holding it, its response key).
Sites = dict[int, tuple[DocumentField, list[tuple[dict[str, Any], str]]]]
_UNRENDERED: Any = object()


async def stitch(target: ObjectPlan | ConnectionPlan, answer: Any, loaders: Loaders) -> Any:
    """`answer` with every MongoDB field's key replaced by its rendered value."""
    sites: Sites = {}
    _collect(target, answer, sites)
    by_loader: dict[str, list[tuple[DocumentField, list[tuple[dict[str, Any], str]]]]]
    by_loader = defaultdict(list)
    for document_field, places in sites.values():
        by_loader[document_field.source.loader_name].append((document_field, places))
    await asyncio.gather(
        *(_fill(getattr(loaders, name), fields) for name, fields in by_loader.items())
    )
    return answer


async def _fill(
    loader: Any, fields: list[tuple[DocumentField, list[tuple[dict[str, Any], str]]]]
) -> None:
    # Each place with its document's key and the parent's carried columns, read once.
    keyed = [
        (
            document_field,
            [(holder, key, *_key(document_field, holder[key])) for holder, key in places],
        )
        for document_field, places in fields
    ]
    ids = {
        text: uuid.UUID(text) for _, places in keyed for _, _, text, _ in places if text is not None
    }
    found: Projected | None = None
    if ids:
        projection = {path for document_field, _ in fields for path in document_field.projection}
        found = await fetch_projected(loader, sorted(ids.values()), projection)
    for document_field, places in keyed:
        rendered: dict[tuple[Any, ...], Any] = {}
        for holder, key, text, carried in places:
            index = (text, *carried)
            value = rendered.get(index, _UNRENDERED)
            if value is _UNRENDERED:
                # A null key (an execution of no workflow, one that has ended): the resolver
                # answers without asking MongoDB.
                stored = found.raw.get(ids[text]) if found and text is not None else None
                value = rendered[index] = _render(document_field, found, stored, carried)
            holder[key] = value


def _render(
    document_field: DocumentField,
    found: Projected | None,
    stored: Stored | None,
    carried: list[Any],
) -> Any:
    """The field's value for the document `stored` (None: not found): straight from it when
    it is canonical (as rendered before for the same bytes, if it was), else through
    validation and the field's `from_model`."""
    direct = document_field.direct
    if stored is not None and found is not None:
        if direct is not None:
            kept = stored.rendered.get(id(document_field))
            if kept is not None and kept[0] is document_field:
                return kept[1]
            if found.canonical(stored):
                try:
                    value = direct(found.decoded(stored))
                except DeviationError:
                    pass  # something `from_model` does not just copy: it renders this one
                else:
                    stored.rendered[id(document_field)] = (document_field, value)
                    return value
        document = found.validated(stored)
    else:
        document = None
    return document_field.render(document_field.source.value(document, *carried))


def _key(document_field: DocumentField, held: Any) -> tuple[str | None, list[Any]]:
    """The document's key where the statement put it, and the parent's carried columns."""
    if document_field.source.carried:
        key, *carried = held
        return key, carried
    return held, []


Collector = Callable[[Any, Sites], None]
# Each plan's collector, built once (a plan is cached with its operation): by the plan's
# id, the plan kept alongside so that the id is not reused while the entry lives.
_collectors: dict[int, tuple[Any, Collector | None]] = {}
_COLLECTORS_SIZE = 1024


def _collect(plan: ObjectPlan | ConnectionPlan | ListPlan | None, value: Any, sites: Sites) -> None:
    if value is None or plan is None:
        return
    collect = _collector(plan)
    if collect is not None:
        collect(value, sites)


def _collector(plan: ObjectPlan | ConnectionPlan | ListPlan) -> Collector | None:
    entry = _collectors.get(id(plan))
    if entry is None or entry[0] is not plan:
        if len(_collectors) >= _COLLECTORS_SIZE:
            _collectors.clear()
        entry = _collectors[id(plan)] = (plan, _build(plan))
    return entry[1]


def _build(plan: ObjectPlan | ConnectionPlan | ListPlan) -> Collector | None:
    """What finds the document fields' places in a value of `plan` (None: it holds none):
    the plan's shape walked once here, not for every object of every answer."""
    if isinstance(plan, ListPlan):  # a list of rows (`Execution.approvals`)
        item = _collector(plan.item)
        if item is None:
            return None

        def each(value: Any, sites: Sites) -> None:
            for row in value:
                if row is not None:
                    item(row, sites)

        return each
    if isinstance(plan, ConnectionPlan):
        edges = [
            (key, [k for k, name in part.parts if name == "node"], collect)
            for key, part in plan.parts
            if isinstance(part, EdgesPlan)
            and part.node is not None
            and (collect := _collector(part.node)) is not None
        ]

        def connection(value: Any, sites: Sites) -> None:
            for key, nodes, collect in edges:
                for edge in value[key]:
                    for node_key in nodes:
                        if (node := edge[node_key]) is not None:
                            collect(node, sites)

        return connection if edges else None
    documents = [
        (key, id(field), field) for key, field in plan.fields if isinstance(field, DocumentField)
    ]
    relations = [
        (key, collect)
        for key, field in plan.fields
        if isinstance(field, Relation) and (collect := _collector(field.target)) is not None
    ]

    def collect_object(value: Any, sites: Sites) -> None:
        for key, ident, document_field in documents:
            site = sites.get(ident)
            if site is None:
                site = sites[ident] = (document_field, [])
            site[1].append((value, key))
        for key, collect in relations:
            if (inner := value[key]) is not None:
                collect(inner, sites)

    return collect_object if documents or relations else None
