"""Which projected documents the compiled path may render without validating them
(`resolvers.compiled.canonical`): exactly those that validation would keep as they are. Every
document a check accepts is also checked here to validate, to the same values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, field_validator

from models.documents import ExecutionTrace, Flowchart, Workflow
from resolvers.compiled.canonical import checker, tree
from resolvers.compiled.documents import projected_model

NODES = frozenset({"_id", "agent_id", "version", "nodes.id", "nodes.type", "nodes.label"})


def _flowchart(**changes: Any) -> dict[str, Any]:
    node = {"id": "n1", "type": "ai", "label": "Draft"}
    return {"_id": uuid.uuid4(), "agent_id": uuid.uuid4(), "version": 3, "nodes": [node]} | changes


def _validates_unchanged(model: type[BaseModel], projection: frozenset[str], raw: Any) -> bool:
    names = frozenset(path.split(".", 1)[0] for path in projection)
    return _same(projected_model(model, names).model_validate(raw), raw)


def _same(validated: Any, raw: Any) -> bool:
    """Validation kept every stored value as it was (the defaults it added aside)."""
    if isinstance(validated, BaseModel):
        return all(
            _same(getattr(validated, name), raw[info.alias or name])
            for name, info in type(validated).model_fields.items()
            if (info.alias or name) in raw
        )
    if isinstance(validated, list):
        return len(validated) == len(raw) and all(map(_same, validated, raw))
    return bool(validated == raw)


def test_tree_of_a_projection() -> None:
    assert tree({"nodes.id", "nodes.type", "version", "connections", "connections.id"}) == {
        "version": None,
        "connections": None,
        "nodes": {"id": None, "type": None},
    }


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (_flowchart(), True),
        # a node without its label: validation gives it the default, unchanged otherwise
        (_flowchart(nodes=[{"id": "n1", "type": "human"}]), True),
        # what validation would change or refuse
        (_flowchart(version="3"), False),
        (_flowchart(version=True), False),
        (_flowchart(nodes=[{"id": "n1", "type": "exploded"}]), False),
        (_flowchart(nodes=[{"id": "n1", "label": "no type"}]), False),
        (_flowchart(nodes=[{"id": 7, "type": "ai"}]), False),
        (_flowchart(nodes={"id": "n1"}), False),
        (_flowchart(agent_id=str(uuid.uuid4())), False),
    ],
)
def test_a_flowchart_is_canonical_when_validation_keeps_it(raw: Any, canonical: bool) -> None:
    check = checker(Flowchart, NODES)
    assert check is not None
    assert check(raw) is canonical
    if canonical:
        assert _validates_unchanged(Flowchart, NODES, raw)


def test_a_sub_document_projected_whole_is_checked_whole() -> None:
    # given: nodes projected with their whole positions
    projection = frozenset({"_id", "agent_id", "nodes.id", "nodes.type", "nodes.position"})
    check = checker(Flowchart, projection)
    assert check is not None
    node = {"id": "n1", "type": "ai", "position": {"x": 1, "y": 2.5}}

    # then: an int where a float is stored is the same number; a string is not
    assert check(_flowchart(nodes=[node]))
    assert _validates_unchanged(Flowchart, projection, _flowchart(nodes=[node]))
    assert not check(_flowchart(nodes=[node | {"position": {"x": 1.0, "y": "2"}}]))


def test_steps_and_workflows() -> None:
    steps = frozenset({"execution_id", "steps.node_id", "steps.node_type", "steps.status"})
    step_check = checker(ExecutionTrace, steps | {"steps.started_at"})
    assert step_check is not None
    step = {"node_id": "n1", "node_type": "ai", "status": "succeeded"}
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    trace = {"execution_id": uuid.uuid4(), "steps": [step | {"started_at": started}]}
    assert step_check(trace)
    assert not step_check({**trace, "steps": [step | {"started_at": "never"}]})
    assert not step_check({**trace, "steps": [step]})  # started_at is required

    workflow_check = checker(Workflow, frozenset({"_id", "name", "status", "tags"}))
    assert workflow_check is not None
    workflow = {"_id": uuid.uuid4(), "name": "Triage", "status": "active", "tags": ["a"]}
    assert workflow_check(workflow)
    assert not workflow_check(workflow | {"tags": ["a", 1]})
    assert not workflow_check(workflow | {"name": None})


class Trimmed(BaseModel):
    name: str

    @field_validator("name")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


class Holder(BaseModel):
    items: list[Trimmed]


def test_a_model_that_transforms_values_is_always_validated() -> None:
    assert checker(Holder, frozenset({"items"})) is None
