"""Reading workflows (MongoDB)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from beanie import SortDirection

from models.documents import Workflow, WorkflowVersion
from resolvers.access import readable_workflows
from resolvers.cursors import MalformedCursorError
from resolvers.filters import DEFAULT_WORKFLOW_ORDER, Ordering, WorkflowFilter, WorkflowOrderField
from resolvers.loaders.versions import VERSIONS_LISTED
from resolvers.pagination import Page, PageRequest, encode_cursor

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.principal import Principal
    from resolvers.context import Context

_SORT_FIELDS = {
    WorkflowOrderField.UPDATED_AT: "updated_at",
    WorkflowOrderField.CREATED_AT: "created_at",
    WorkflowOrderField.NAME: "name",
}


def workflow_query(principal: Principal, filter_: WorkflowFilter) -> dict[str, Any]:
    """A MongoDB filter over the workflows `principal` may read. User text only ever appears
    as a value (matched literally) or as an escaped regular expression, never as an
    operator: `{"$gt": ""}` is just a string."""
    query = readable_workflows(principal)
    if filter_.statuses is not None:
        query["status"] = {"$in": [status.value for status in filter_.statuses]}
    tag_terms: dict[str, Any] = {}
    if filter_.tags_any is not None:
        tag_terms["$in"] = list(filter_.tags_any)
    if filter_.tags_all is not None:
        tag_terms["$all"] = list(filter_.tags_all)
    if tag_terms:
        query["tags"] = tag_terms
    if filter_.category is not None:
        query["category"] = {"$eq": filter_.category}
    if filter_.created_by is not None:
        query["created_by"] = filter_.created_by
    if filter_.text is not None:
        pattern = {"$regex": re.escape(filter_.text), "$options": "i"}
        query["$or"] = [{"name": pattern}, {"description": pattern}]
    return query


def _keyset(field: str, value: Any, row_id: uuid.UUID, descending: bool) -> dict[str, Any]:
    operator = "$lt" if descending else "$gt"
    return {"$or": [{field: {operator: value}}, {field: value, "_id": {operator: row_id}}]}


async def list_workflows(
    info: Info[Context],
    *,
    page: PageRequest,
    filter_: WorkflowFilter | None = None,
    order: Ordering[WorkflowOrderField] | None = None,
) -> tuple[Page[Workflow], dict[str, Any]]:
    """A page of workflows and the query its `totalCount` counts."""
    order = order or DEFAULT_WORKFLOW_ORDER
    query = workflow_query(info.context.principal, filter_ or WorkflowFilter())
    field = _SORT_FIELDS[order.field]
    scan_descending = order.descending != page.backward
    paged = dict(query)
    if page.cursor is not None:
        value, row_id = page.cursor
        if field == "name":
            # The value goes into the query: anything but a string (`{"$gt": ""}`) would be
            # read as an operator.
            if not isinstance(value, str):
                raise MalformedCursorError(page.cursor_argument)
        else:
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise MalformedCursorError(page.cursor_argument) from None
        paged = {"$and": [query, _keyset(field, value, row_id, scan_descending)]}
    direction = SortDirection.DESCENDING if scan_descending else SortDirection.ASCENDING
    found = (
        await Workflow.find(paged)
        .sort([(field, direction), ("_id", direction)])
        .limit(page.limit + 1)
        .to_list()
    )
    has_more = len(found) > page.limit
    found = found[: page.limit]
    if page.backward:
        found.reverse()
    return (
        Page(
            items=found,
            cursors=[encode_cursor(getattr(w, field), w.id) for w in found],
            has_next_page=has_more if not page.backward else page.cursor is not None,
            has_previous_page=has_more if page.backward else page.cursor is not None,
        ),
        query,
    )


async def count(info: Info[Context], query: dict[str, Any]) -> int:
    # `info` goes unused (Beanie holds the connection), but every root list's count takes
    # it, so that one root connection body serves them all (`schema.connection`).
    del info
    return await Workflow.find(query).count()


async def workflow_by_id(info: Info[Context], workflow_id: uuid.UUID) -> Workflow | None:
    return await info.context.loaders.workflow_by_id.load(workflow_id)


async def previous_versions(info: Info[Context], workflow: Workflow) -> list[WorkflowVersion]:
    """The versions `workflow` replaced, newest first, at most `VERSIONS_LISTED`. A snapshot
    of the current version (left by a change interrupted before its update) is not one."""
    kept = await info.context.loaders.workflow_versions_by_workflow.load(workflow.id)
    return [version for version in kept if version.version < workflow.version][:VERSIONS_LISTED]
