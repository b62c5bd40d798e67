"""What agents and their executions compile to: the `agents` and `executions` roots' listings,
an agent's executions (`Agent.executions`) and its figures (`Agent.stats`), under the
resolvers' own terms and over the executions the principal may see only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import FromClause

from flowgate.principal import Principal
from models import sql
from resolvers.agents import agent_conditions
from resolvers.compiled import figures as compiled_figures
from resolvers.compiled import statements
from resolvers.compiled.sql import Expression, json_object, lit
from resolvers.compiled.statements import Listing
from resolvers.compiled.visibility import execution_visible
from resolvers.executions import execution_conditions
from resolvers.filters import DEFAULT_EXECUTION_ORDER, AgentFilter, AgentOrderField, Ordering
from resolvers.sorting import AGENT_SORT_KEYS, EXECUTION_SORT_KEYS
from schema.compiled.figures import FiguresPlan
from schema.compiled.plan import ConnectionPlan, Relation
from schema.compiled.render import render
from schema.filters import ExecutionFilter
from schema.nested import nested_args

if TYPE_CHECKING:
    from schema.compiled.bind import Binder


async def agents(binder: Binder, args: dict[str, Any]) -> Listing:
    """The `agents` root's rows, as `agents` lists them."""
    filter_input, order = args.get("filter"), args.get("order_by")
    agent_filter = filter_input.to_filter() if filter_input else AgentFilter()
    # The terms of `hasFlowchart` hold ids read from MongoDB while binding: not reusable.
    binder.cacheable = agent_filter.has_flowchart is None
    ordering = order.to_ordering() if order else None
    field = ordering.field if ordering else AgentOrderField.CREATED_AT
    return Listing(
        sql.Agent,
        await agent_conditions(binder.info, agent_filter),
        AGENT_SORT_KEYS[field],
        ordering.descending if ordering else True,
    )


async def executions(binder: Binder, args: dict[str, Any]) -> Listing:
    """The `executions` root's rows, as `executions` lists them."""
    filter_input, order = args.get("filter"), args.get("order_by")
    execution_filter = (filter_input or ExecutionFilter()).to_filter()
    execution_order = order.to_ordering() if order else DEFAULT_EXECUTION_ORDER
    conditions = execution_conditions(binder.principal.organization_id, execution_filter)
    return visible_executions(binder.principal, conditions, execution_order)


def visible_executions(
    principal: Principal, conditions: list[Any], ordering: Ordering[Any]
) -> Listing:
    """Executions under the resolvers' terms, and only those the principal may see."""
    return Listing(
        sql.Execution,
        conditions,
        EXECUTION_SORT_KEYS[ordering.field],
        ordering.descending,
        [lambda table: execution_visible(principal, table)],
    )


def agent_executions(
    binder: Binder, relation: Relation, target: ConnectionPlan, parent: FromClause
) -> Expression:
    """`Agent.executions`: a page of the agent's executions, as `nested_args` checks and
    the loader pages them."""
    args = binder.arguments(relation.field_def, relation.details)
    nested = nested_args(
        args["first"],
        args.get("filter"),
        args.get("order_by"),
        max_size=binder.max_page_size,
        after=args.get("after"),
    )
    conditions = execution_conditions(binder.principal.organization_id, nested.filter)
    listing = visible_executions(binder.principal, conditions, nested.order)
    return statements.nested_connection(
        binder.shape(target),
        listing,
        nested.first,
        lambda t: t.c.agent_id == parent.c.id,
        nested.after,
    )


def figures(principal: Principal, plan: FiguresPlan, parent: FromClause) -> Expression:
    """The parent's figures over its executions that the principal may see (the loader's
    terms: `execution_visible` and the parent's key)."""

    def rendered(values: dict[str, Expression]) -> Expression:
        return json_object(
            [
                (key, lit(part) if isinstance(part, str) else render(values, part))
                for key, part in plan.fields
            ]
        )

    return compiled_figures.aggregate(
        rendered,
        lambda t: [
            execution_visible(principal, t),
            t.c[plan.parent_column] == parent.c.id,
        ],
    )
