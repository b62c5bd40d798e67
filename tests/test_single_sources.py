"""Rules and lists that live in one place: each test fails when a second copy appears or
when two lists that must agree drift apart."""

from __future__ import annotations

import ast
from pathlib import Path

from graphql import GraphQLObjectType, GraphQLUnionType, get_named_type

import models.enums
import schema.search as search_schema
from flowgate.search.base import DocumentType
from resolvers import nodes
from resolvers.pagination import MAX_PAGE_SIZE
from schema import query, schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def test_schema_modules_take_graphql_enums_from_schema_enums() -> None:
    # given: the domain enums, which `schema.enums` registers as GraphQL enums
    enum_names = {
        name
        for name, value in vars(models.enums).items()
        if isinstance(value, type) and value.__module__ == models.enums.__name__
    }

    # when: every import of one of them in the schema package, but the registering module
    # (and permission checks, which compare roles and expose no enum)
    found = []
    for path in sorted(SCHEMA_DIR.rglob("*.py")):
        if path.name in ("enums.py", "permissions.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "models.enums":
                found += [f"{path.name}: {alias.name}" for alias in node.names]
            if isinstance(node, ast.Import) and any(
                alias.name == "schema.enums" for alias in node.names
            ):
                found.append(f"{path.name}: import schema.enums (for its side effect)")

    # then: none; `from schema.enums import X` names the registered enum explicitly
    assert enum_names
    assert found == []


def test_node_types_agree_between_the_schema_and_the_resolvers() -> None:
    # given: the types that implement `Node` in the schema
    implementing = {
        name
        for name, graphql_type in schema._schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType)
        and any(interface.name == "Node" for interface in graphql_type.interfaces)
    }

    # then: `node(id)` can find each (resolvers) and build each (schema), and nothing else
    assert set(nodes.NODE_TYPES) == implementing
    assert {
        name: definition_name(graphql_type) for name, graphql_type in query._NODE_TYPES.items()
    } == {name: name for name in implementing}


def test_search_result_types_agree_between_the_enum_the_table_and_the_union() -> None:
    # given
    union = schema._schema.type_map["SearchObject"]
    assert isinstance(union, GraphQLUnionType)

    # then: every kind of result has its GraphQL type, and the union lists exactly those
    assert set(search_schema.OBJECT_TYPES) == set(DocumentType)
    assert {member.name for member in union.types} == {
        definition_name(graphql_type) for graphql_type in search_schema.OBJECT_TYPES.values()
    }


def definition_name(strawberry_type: type) -> str:
    return str(strawberry_type.__strawberry_definition__.name)  # type: ignore[attr-defined]


def test_page_size_arguments_describe_the_limit_without_hard_coding_it() -> None:
    # given: every `first`/`last` argument of a connection (the maximum is a setting; lists
    # with a bound of their own, as `executionAggregate` and `history`, say theirs)
    arguments = {
        f"{type_name}.{field_name}({argument_name}:)": argument.description or ""
        for type_name, graphql_type in schema._schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in graphql_type.fields.items()
        for argument_name, argument in field.args.items()
        if argument_name in ("first", "last")
        and get_named_type(field.type).name.endswith("Connection")
    }

    # then: each names the limit as the gateway's, not as the default number
    assert arguments
    wrong = {
        where: description
        for where, description in arguments.items()
        if "page-size limit" not in description or str(MAX_PAGE_SIZE) in description
    }
    assert wrong == {}


def test_root_connections_with_a_filter_and_an_order_share_one_body() -> None:
    # given: the root fields that take the Relay arguments, a `filter` and an `orderBy`
    query_type = schema._schema.type_map["Query"]
    assert isinstance(query_type, GraphQLObjectType)
    shaped = {
        name
        for name, field in query_type.fields.items()
        if {"first", "after", "last", "before", "filter", "orderBy"} <= set(field.args)
    }

    # then: each is built by `schema.connection.root_connection`, none written by hand
    assert shaped >= {"agents", "executions", "workflows", "conversations"}
    resolvers = {
        name: query_type.fields[name]
        .extensions["strawberry-definition"]
        .base_resolver.wrapped_func.__qualname__
        for name in shaped
    }
    assert resolvers == {name: "root_connection.<locals>.resolve" for name in shaped}
