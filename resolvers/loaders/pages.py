"""Nested connections: a page of executions for each agent (or workflow) of a parent page,
all in one query.

`row_number()` over a window partitioned by the parent gives each parent its own first N;
`count(*)` over the same partition gives each parent its own `totalCount`, in the same
round trip. Keys carry the page arguments, so two differently-paged uses of the field in
one query batch separately (one query per distinct argument set)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, true
from sqlalchemy.orm import aliased

from flowgate.principal import Principal
from flowgate.services import Services
from models.sql import Execution
from resolvers import access
from resolvers.executions import execution_conditions
from resolvers.filters import ExecutionFilter, ExecutionOrderField, Ordering
from resolvers.loaders.base import ScopedLoader
from resolvers.loaders.keys import in_keys
from resolvers.loaders.readable import ReadableWorkflowIds
from resolvers.pagination import Page, encode_cursor
from resolvers.sorting import EXECUTION_SORT_KEYS
from resolvers.sql_pages import past_cursor


@dataclass(frozen=True)
class NestedPageArgs:
    first: int
    filter: ExecutionFilter
    order: Ordering[ExecutionOrderField]
    # The cursor `after`, its sort value parsed (`resolvers.sql_pages.parse_cursor`).
    after: tuple[Any, uuid.UUID] | None = None


@dataclass
class CountedPage:
    page: Page[Execution]
    total: int


ExecutionPageKey = tuple[uuid.UUID, NestedPageArgs]


class _ExecutionPageByParentLoader(ScopedLoader[ExecutionPageKey, CountedPage]):
    parent_column: Any

    def __init__(
        self, services: Services, principal: Principal, readable: ReadableWorkflowIds
    ) -> None:
        super().__init__(services, principal)
        # An agent's page must not show executions of workflows the principal may not read.
        self.readable = readable

    async def batch_load_fn(self, keys: Sequence[ExecutionPageKey]) -> list[CountedPage]:
        parents_by_args: dict[NestedPageArgs, list[uuid.UUID]] = defaultdict(list)
        for parent_id, args in keys:
            parents_by_args[args].append(parent_id)
        pages: dict[ExecutionPageKey, CountedPage] = {}
        visible = access.execution_visible(self.principal, await self.readable.get())
        async with self.services.postgres.read_session() as session:
            for args, parent_ids in parents_by_args.items():
                pages.update(await self._load(session, args, parent_ids, visible))
        empty = Page[Execution](items=[], cursors=[], has_next_page=False, has_previous_page=False)
        return [pages.get(key, CountedPage(empty, 0)) for key in keys]

    async def _load(
        self,
        session: Any,
        args: NestedPageArgs,
        parent_ids: list[uuid.UUID],
        visible: ColumnElement[bool],
    ) -> dict[ExecutionPageKey, CountedPage]:
        sort = EXECUTION_SORT_KEYS[args.order.field]
        ordering = (
            (sort.expression.desc(), Execution.id.desc())
            if args.order.descending
            else (sort.expression.asc(), Execution.id.asc())
        )
        # Read off the class: a mapped attribute read off an instance is a descriptor that
        # looks for ORM state on the loader and raises.
        parent = type(self).parent_column
        # Past the cursor: rows ranked after those it skips. The total and the ranks count
        # the whole list, so `skipped` (rows up to the cursor) comes from the same window.
        past = (
            past_cursor(sort.expression, Execution.id, args.after,
                        backward_scan=args.order.descending)
            if args.after is not None
            else true()
        )  # fmt: skip
        ranked = (
            select(
                Execution,
                func.row_number().over(partition_by=parent, order_by=ordering).label("rank"),
                func.count().over(partition_by=parent).label("total"),
                func.sum(case((past, 0), else_=1)).over(partition_by=parent).label("skipped"),
            )
            .where(
                *execution_conditions(self.principal.organization_id, args.filter),
                in_keys(parent, parent_ids),
                visible,
            )
            .subquery()
        )
        execution = aliased(Execution, ranked)
        query = (
            select(execution, ranked.c.total, ranked.c.skipped, ranked.c.rank)
            # At least each parent's first row, which carries its total: `first: 0` (or a
            # cursor at the end) still counts.
            .where(or_(ranked.c.rank == 1, ranked.c.rank <= ranked.c.skipped + args.first))
            .order_by(ranked.c[parent.key], ranked.c.rank)
        )
        grouped: dict[uuid.UUID, list[Execution]] = defaultdict(list)
        totals: dict[uuid.UUID, int] = {}
        skipped_of: dict[uuid.UUID, int] = {}
        for row, total, skipped, rank in (await session.execute(query)).all():
            key = getattr(row, parent.key)
            if skipped < rank and len(grouped[key]) < args.first:
                grouped[key].append(row)
            totals[key], skipped_of[key] = total, int(skipped)
        return {
            (parent_id, args): CountedPage(
                Page(
                    items=grouped[parent_id],
                    cursors=[encode_cursor(sort.value_of(e), e.id) for e in grouped[parent_id]],
                    has_next_page=(
                        totals.get(parent_id, 0) > skipped_of.get(parent_id, 0) + args.first
                    ),
                    # As the root connections answer: a cursor means something was before.
                    has_previous_page=args.after is not None,
                ),
                totals.get(parent_id, 0),
            )
            for parent_id in parent_ids
        }


class ExecutionPageByAgentLoader(_ExecutionPageByParentLoader):
    parent_column = Execution.agent_id


class ExecutionPageByWorkflowLoader(_ExecutionPageByParentLoader):
    parent_column = Execution.workflow_id
