"""Typed drafts (issue 15 item 4): every mutation input that carries an object's fields into
the resolvers builds a draft (`to_draft()`), and the draft has a place for each input field.
A GraphQL input field added without its draft field fails here, not silently in a resolver
that never sees the value."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from models.documents import WorkflowContent, WorkflowPermissions
from resolvers.conversations import projects
from resolvers.drafts import UNSET, given, graphql_name
from resolvers.drafts.agent import AgentChanges
from resolvers.drafts.project import ProjectChanges
from resolvers.drafts.workflow import (
    ContentChanges,
    PermissionsChanges,
    SettingsChanges,
    WorkflowChanges,
)
from resolvers.validation import agent as agent_checks
from resolvers.validation import workflow as workflow_checks
from schema import schema
from schema.mutations.agents import UpdateAgentInput

# Inputs whose draft flattens a nested input: the input field -> the draft fields it fills.
FLATTENED: dict[tuple[str, str], set[str]] = {
    ("FlowNodeInput", "position"): {"x", "y"},
    ("FlowchartInput", "metadata"): {"title", "description", "layout"},
}
# Inputs that build no draft, and why. A new input must join one list or the other.
NOT_DRAFTED: dict[str, str] = {
    **dict.fromkeys(
        (
            "AgentFilter",
            "AgentOrder",
            "AggregateOrder",
            "AuditLogFilter",
            "ConversationFilter",
            "ConversationOrder",
            "DashboardStatsFilter",
            "DateRangeInput",
            "ExecutionFilter",
            "ExecutionOrder",
            "ExecutionUpdatesFilter",
            "IntRangeInput",
            "SearchFilter",
            "UserFilter",
            "WorkflowFilter",
            "WorkflowOrder",
        ),
        "a query's filter or order: it builds its own typed filter, not an object's fields",
    ),
    "FlowchartMetadataInput": "flattened into FlowchartDraft by FlowchartInput",
    "PositionInput": "flattened into NodeDraft by FlowNodeInput",
    "StepInput": "builds a typed report (`to_report`) of one step",
    "ToolCallInput": "builds a typed report (`to_report`) of one tool call",
    "UsageInput": "read field by field into the typed `replies.Finish`",
    "PreferencesInput": "builds a typed `PreferencesChange` (`to_change`)",
    "NotificationSettingsInput": "nested in PreferencesInput",
    # Identity: read field by field into typed keyword arguments (null keeps a field; no
    # update there needs omitted apart from null).
    "CreateApiKeyInput": "typed keyword arguments of `api_keys.create_api_key`",
    "UpdateOrganizationInput": "typed keyword arguments of `members.update_organization`",
    "UpdateProfileInput": "typed keyword arguments of `profiles.update_profile`",
}


def _inputs() -> dict[str, type]:
    inputs = {}
    for name, defined in schema.schema_converter.type_map.items():
        definition = defined.definition
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
            inputs[name] = definition.origin
    return inputs


INPUTS = _inputs()
DRAFTED = sorted(name for name, origin in INPUTS.items() if hasattr(origin, "to_draft"))


def _draft_type(origin: type) -> type:
    draft = typing.get_type_hints(origin.to_draft)["return"]  # type: ignore[attr-defined]
    assert dataclasses.is_dataclass(draft), f"{origin.__name__}.to_draft returns no dataclass"
    return draft  # type: ignore[return-value]


def _input_fields(origin: type) -> list[Any]:
    definition = origin.__strawberry_definition__  # type: ignore[attr-defined]
    return list(definition.fields)


def test_every_input_builds_a_draft_or_says_why_not() -> None:
    # given: the schema's input types
    names = set(INPUTS)

    # then: each builds a draft, or is listed (with its reason) as building none
    assert names - set(DRAFTED) - set(NOT_DRAFTED) == set()
    assert set(NOT_DRAFTED) - names == set(), "listed inputs the schema no longer has"
    assert set(NOT_DRAFTED) & set(DRAFTED) == set()


@pytest.mark.parametrize("name", DRAFTED)
def test_the_draft_has_a_field_for_every_input_field_and_no_other(name: str) -> None:
    # given
    origin = INPUTS[name]
    draft_fields = {field.name for field in dataclasses.fields(_draft_type(origin))}

    # when: the draft fields the input's fields fill
    filled: set[str] = set()
    for field in _input_fields(origin):
        filled |= FLATTENED.get((name, field.python_name), {field.python_name})

    # then
    assert (sorted(filled - draft_fields), sorted(draft_fields - filled)) == ([], [])


@pytest.mark.parametrize("name", DRAFTED)
def test_issue_paths_name_the_input_fields_as_the_schema_does(name: str) -> None:
    # given: issue paths are built from draft attributes (`resolvers.drafts.graphql_name`)
    converter = schema.config.name_converter

    # then: for every field, that is the name a client sends
    for field in _input_fields(INPUTS[name]):
        assert graphql_name(field.python_name) == converter.get_graphql_name(field)


def _omittable(origin: type) -> bool:
    return all(field.default is strawberry.UNSET for field in _input_fields(origin))


CHANGES = [name for name in DRAFTED if _omittable(INPUTS[name])]


def test_the_inputs_of_changes_are_found() -> None:
    # then: the update inputs and their nested inputs, where omitted differs from null
    assert set(CHANGES) == {
        "UpdateAgentInput",
        "UpdateProjectInput",
        "UpdateWorkflowInput",
        "WorkflowPermissionsInput",
        "WorkflowSettingsInput",
    }


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_omitted_stays_unset(name: str) -> None:
    # given: an input of changes with no field given
    draft = INPUTS[name]().to_draft()

    # then: the draft changes nothing
    assert given(draft) == {}


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_given_as_null_reaches_the_draft_as_null(name: str) -> None:
    # given: every field given, as null
    origin = INPUTS[name]
    draft = origin(**{field.python_name: None for field in _input_fields(origin)}).to_draft()

    # then: every draft field carries the null (none was dropped on the way, or left UNSET)
    assert given(draft) == {field.name: None for field in dataclasses.fields(draft)}


def test_a_draft_keeps_the_value_given_next_to_the_ones_omitted() -> None:
    # given
    changes = UpdateAgentInput(name="Renamed", capabilities=["search"]).to_draft()

    # then
    assert changes == AgentChanges(name="Renamed", capabilities=["search"])
    assert changes.category is UNSET
    assert given(changes) == {"name": "Renamed", "capabilities": ["search"]}


def _names(draft: type) -> set[str]:
    return {field.name for field in dataclasses.fields(draft)}


@pytest.mark.parametrize(
    ("draft", "checked"),
    [
        (AgentChanges, set(agent_checks._CHECKS)),
        (
            WorkflowChanges,
            {*workflow_checks._CHECKS, "nodes", "edges", "settings", "permissions"},
        ),
        (SettingsChanges, set(workflow_checks._SETTINGS_PATHS)),
        (PermissionsChanges, {*workflow_checks._PERMISSION_LISTS, "is_public"}),
        (ProjectChanges, {*projects._TEXT_FIELDS, "status"}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_every_draft_field_has_its_check_and_every_check_its_field(
    draft: type, checked: set[str]
) -> None:
    # then: a field added to a draft without a check (or a check left behind) fails here,
    # not as a KeyError in the first request that gives it
    assert (sorted(_names(draft) - checked), sorted(checked - _names(draft))) == ([], [])


def test_the_checked_content_of_a_workflow_has_a_field_for_each_content_field() -> None:
    # then: whatever the content base holds, every change can store (create, update,
    # archive and restore all write through `ContentChanges`)
    assert [field.name for field in dataclasses.fields(ContentChanges)] == list(
        WorkflowContent.model_fields
    )


def test_checked_workflow_content_stores_only_the_fields_given() -> None:
    # given
    changes = ContentChanges(name="Triage", tags=[])

    # then: the omitted fields are not in the update; an empty list is a value
    assert changes.stored() == {"name": "Triage", "tags": []}


def test_checked_permissions_name_the_stored_permissions() -> None:
    # then: `apply_permissions` copies them over by name (a name it does not know would be
    # set on the copy, not stored)
    assert [field.name for field in dataclasses.fields(workflow_checks.CheckedPermissions)] == list(
        WorkflowPermissions.model_fields
    )
