"""`schema.graphql` is the schema as it is: a change to the GraphQL surface shows up in review
as a change to this file, and the failure lists what the change would break for clients."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import GraphQLError, build_schema
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


def test_flowgate_schema_prints_the_sdl() -> None:
    # when
    printed = subprocess.run(
        [sys.executable, "-m", "flowgate.cli", "schema"], capture_output=True, text=True, check=True
    ).stdout

    # then
    assert printed == schema.as_str() + "\n"
