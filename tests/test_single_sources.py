"""Rules and lists that live in one place: each test fails when a second copy appears or
when two lists that must agree drift apart."""

from __future__ import annotations

import ast
from pathlib import Path

import models.enums

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
