"""The plan cache is bounded, and keeps what is used; what the planner compiles."""

from __future__ import annotations

from graphql import parse
from graphql.execution.collect_fields import collect_fields

from resolvers.compiled.cache import BoundedCache
from schema import schema
from schema.compiled.bind import RELATIONS
from schema.compiled.computed import Computed
from schema.compiled.executor import CompiledExecutionContext
from schema.compiled.plan import (
    ConnectionPlan,
    ListPlan,
    ObjectPlan,
    Planner,
    Relation,
    RootPlan,
    reads_clock,
)


def test_the_least_recently_used_plan_leaves_first() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    cache.put("a", "plan a")
    cache.put("b", "plan b")
    assert cache.get("a") == "plan a"  # used: now the most recent

    cache.put("c", "plan c")

    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == "plan a"
    assert cache.get("c") == "plan c"


APPROVAL_STATE = """
query($e: ID!) { execution(id: $e) { id approvals { id status waitMs decidedBy { id } } } }
"""


def _root_plan(query: str, variables: dict[str, object]) -> RootPlan:
    """The plan of the operation's one root field, as the executor makes it."""
    graphql_schema = schema._schema
    executor = CompiledExecutionContext.build(
        graphql_schema, parse(query), raw_variable_values=variables
    )
    assert isinstance(executor, CompiledExecutionContext), executor
    root = graphql_schema.query_type
    assert root is not None
    grouped = collect_fields(
        graphql_schema, executor.fragments, executor.variable_values, root, executor.operation
    ).grouped_field_set
    ((name, details),) = grouped.items()
    return Planner(executor, RELATIONS).root(root.fields[name], details)


def test_an_approvals_status_and_wait_are_planned_into_the_statement() -> None:
    # when: an execution's approvals with their state at the request's time
    plan = _root_plan(APPROVAL_STATE, {"e": "RXhlY3V0aW9uOng"})

    # then: planned (no fallback), computed in the statement at the request's time
    assert isinstance(plan.target, ObjectPlan)
    approvals = dict(plan.target.fields)["approvals"]
    assert isinstance(approvals, Relation) and isinstance(approvals.target, ListPlan)
    fields = dict(approvals.target.item.fields)
    status = fields["status"]
    assert isinstance(status, Computed) and status.value.render == "enum"
    assert ("expired", "EXPIRED") in status.value.enum_names
    assert isinstance(fields["waitMs"], Computed) and fields["waitMs"].value.render == "plain"
    assert reads_clock(plan.target)
    # ...while a plan without them does not take the time
    plain = _root_plan("{ executions(first: 1) { edges { node { id } } } }", {})
    assert isinstance(plain.target, ConnectionPlan) and not reads_clock(plain.target)
