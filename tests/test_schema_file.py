"""`schema.graphql` is the schema as it is: a change to the GraphQL surface shows up in review
as a change to this file, and the failure lists what the change would break for clients. A
removal (field, argument, input field, enum value) must be deliberate: deprecated in an
earlier committed version, which git's history of the file shows."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_introspection_query,
    graphql_sync,
)
from graphql.utilities import find_breaking_changes

from schema import schema

COMMITTED = Path(__file__).resolve().parent.parent / "schema.graphql"
REGENERATE = "uv run flowgate schema > schema.graphql"


def test_the_committed_schema_is_the_current_one() -> None:
    # given
    committed = COMMITTED.read_text()

    # when
    current = schema.as_str() + "\n"

    # then: equal; if not, say what would break for clients (a removed field or argument
    # must be deliberate: deprecate first)
    if committed != current:
        try:
            breaking = [
                change.description
                for change in find_breaking_changes(build_schema(committed), build_schema(current))
            ]
        except GraphQLError as error:  # the committed file was edited by hand and is broken
            breaking = [f"(schema.graphql does not parse: {error.message})"]
        raise AssertionError(
            f"the schema changed: review it, then run `{REGENERATE}`. "
            f"Breaking for clients: {breaking or 'nothing'}"
        )


def test_the_standard_introspection_query_answers_without_errors() -> None:
    # given: the query GraphiQL, gql and code generators send, with every option on
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )

    # when
    # (graphql-core on Strawberry's schema: the gateway's extensions need a request)
    result = graphql_sync(schema._schema, query)

    # then: no errors (an object default of a custom scalar, for one, cannot be written)
    assert result.errors is None, [error.message for error in result.errors]


def test_flowgate_schema_prints_the_sdl() -> None:
    # when
    printed = subprocess.run(
        [sys.executable, "-m", "flowgate.cli", "schema"], capture_output=True, text=True, check=True
    ).stdout

    # then
    assert printed == schema.as_str() + "\n"


# A removal that reviewers accepted without a deprecation first, with why. Empty is the goal:
# deprecate (`deprecation_reason=...`), release, and remove in a later change.
ACKNOWLEDGED_REMOVALS: dict[str, str] = {
    # Renamed on the conversations branch before it was ever merged or served: as `message`
    # they clashed with `Error.message` / `ResyncRequired.message` in union selections.
    "MessagePayload.message": "never released; renamed chatMessage (issue 18)",
    "StartConversationPayload.message": "never released; renamed firstMessage (issue 18)",
    "ConversationEvent.message": "never released; renamed chatMessage (issue 18)",
}


def undeprecated_removals(old: GraphQLSchema, new: GraphQLSchema) -> list[str]:
    """What `old` has and `new` lacks, of fields, arguments, input fields and enum values,
    that `old` did not mark deprecated. (A type disappears only with the fields that
    returned it, so types need no rule of their own.)"""
    removed = []
    for name, old_type in old.type_map.items():
        new_type = new.type_map.get(name)
        if name.startswith("__") or new_type is None:
            continue
        if isinstance(old_type, GraphQLEnumType) and isinstance(new_type, GraphQLEnumType):
            removed += [
                f"{name}.{value}"
                for value, old_value in old_type.values.items()
                if value not in new_type.values and old_value.deprecation_reason is None
            ]
        if not isinstance(
            old_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            continue
        new_fields = getattr(new_type, "fields", {})
        for field_name, old_field in old_type.fields.items():
            new_field = new_fields.get(field_name)
            if new_field is None:
                if old_field.deprecation_reason is None:
                    removed.append(f"{name}.{field_name}")
                continue
            for arg_name, old_arg in getattr(old_field, "args", {}).items():
                if arg_name not in new_field.args and old_arg.deprecation_reason is None:
                    removed.append(f"{name}.{field_name}({arg_name}:)")
    return [item for item in removed if item not in ACKNOWLEDGED_REMOVALS]


def _committed_versions() -> list[tuple[str, str]]:
    """(commit, schema.graphql at that commit), oldest first, from the history git has: the
    first parents only, the versions main had (a merged branch's own commits never shipped)."""
    try:
        commits = subprocess.run(
            ["git", "log", "--reverse", "--first-parent", "--format=%H", "--", COMMITTED.name],
            cwd=COMMITTED.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here to check schema.graphql's versions against")
    return [
        (
            commit,
            subprocess.run(
                ["git", "show", f"{commit}:{COMMITTED.name}"],
                cwd=COMMITTED.parent,
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        )
        for commit in commits
    ]


def test_nothing_was_removed_from_the_schema_without_being_deprecated_first() -> None:
    # given: every committed version of the schema, then the current one
    versions = [*_committed_versions(), ("the working tree", schema.as_str() + "\n")]

    # when: each is compared with the one before
    offences = {
        f"{old_commit[:12]} -> {new_commit[:12]}": removed
        for (old_commit, old_sdl), (new_commit, new_sdl) in itertools.pairwise(versions)
        if (removed := undeprecated_removals(build_schema(old_sdl), build_schema(new_sdl)))
    }

    # then: none removed what clients could still be using without warning them first
    assert not offences, (
        "removed without a deprecation first (mark it deprecated, ship that, then remove; or "
        f"acknowledge it in ACKNOWLEDGED_REMOVALS with the reason): {offences}"
    )


def test_the_deprecation_check_finds_undeprecated_removals() -> None:
    # given: a field, an argument, an input field and an enum value, one of each deprecated
    old = build_schema("""
        type Query { a(x: Int, y: Int @deprecated): Int, b: Int @deprecated(reason: "use a") }
        input In { p: Int, q: Int @deprecated, r: Int }
        enum E { ON, OFF, GONE @deprecated }
        type Mutation { m(i: In, e: E): Int }
    """)
    new = build_schema("""
        type Query { a: Int }
        input In { p: Int }
        enum E { ON }
        type Mutation { m(i: In, e: E): Int }
    """)

    # then: only the undeprecated ones are reported
    assert sorted(undeprecated_removals(old, new)) == ["E.OFF", "In.r", "Query.a(x:)"]
