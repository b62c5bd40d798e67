"""The fields of an agent, as `createAgent` and `updateAgent` receive them (as drafts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from models.enums import AgentStatus
from resolvers.drafts import given, graphql_name
from resolvers.drafts.agent import AgentChanges, AgentDraft
from resolvers.validation import described, values
from resolvers.validation.issues import IssueCode, Issues

CONFIGURATION_MAX_BYTES: Final = 16 * 1024
CAPABILITIES_MAX: Final = 50
CAPABILITY_MAX: Final = 100
TEMPERATURE_MIN: Final = 0.0
TEMPERATURE_MAX: Final = 2.0
PROVIDER_MAX: Final = 50  # executions.ai_provider
MODEL_MAX: Final = 100
MAX_TOKENS_MAX: Final = 1_000_000
SYSTEM_PROMPT_MAX: Final = 10_000


def check_agent_fields(issues: Issues, draft: AgentDraft | AgentChanges) -> AgentChanges:
    """The cleaned values of the fields the draft gives (all of a new agent's; only those
    not `UNSET` of changes, so that an update changes exactly those). Issue paths are the
    input's names."""
    cleaned: dict[str, Any] = {}
    for field, value in given(draft).items():
        path = graphql_name(field)
        if value is None:
            issues.add(path, IssueCode.REQUIRED, "must not be null; omit it to keep its value")
        else:
            checked = _CHECKS[field](issues, path, value)
            if checked is not None:
                cleaned[field] = checked
    return AgentChanges(**cleaned)


def _status(issues: Issues, path: str, value: object) -> AgentStatus | None:
    try:
        return AgentStatus(str(value))
    except ValueError:
        known = ", ".join(status.value for status in AgentStatus)
        issues.add(path, IssueCode.INVALID, f"must be one of {known}")
        return None


def _configuration(issues: Issues, path: str, value: object) -> dict[str, Any] | None:
    """A JSON object whose known keys have the types and sizes the rest of the platform
    reads them with (`provider` is copied into a 50-character column by `startExecution`:
    a number there failed every execution of the agent). Other keys are the agent's own."""
    configuration = values.json_object(issues, path, value, max_bytes=CONFIGURATION_MAX_BYTES)
    if configuration is None:
        return None
    found = issues.total
    for key, check in _CONFIGURATION_KEYS.items():
        if key in configuration:
            check(issues, f"{path}.{key}", configuration[key])
    return configuration if issues.total == found else None


def _number(
    low: float, high: float, *, integer: bool = False
) -> Callable[[Issues, str, object], None]:
    def check(issues: Issues, path: str, value: object) -> None:
        # bool is an int to Python, but `true` is no number.
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            issues.add(
                path, IssueCode.INVALID, "must be an integer" if integer else "must be a number"
            )
        elif not low <= value <= high:
            issues.add(
                path, IssueCode.OUT_OF_RANGE, f"must be between {low:g} and {high:g}, got {value}"
            )

    return check


def _string(max_length: int) -> Callable[[Issues, str, object], None]:
    def check(issues: Issues, path: str, value: object) -> None:
        values.text(issues, path, value, max_length=max_length, required=True, trim=False)

    return check


_CONFIGURATION_KEYS: Final[dict[str, Callable[[Issues, str, object], None]]] = {
    "provider": _string(PROVIDER_MAX),
    "model": _string(MODEL_MAX),
    "temperature": _number(TEMPERATURE_MIN, TEMPERATURE_MAX),
    "top_p": _number(0, 1),
    "max_tokens": _number(1, MAX_TOKENS_MAX, integer=True),
    "system_prompt": _string(SYSTEM_PROMPT_MAX),
}


def _capabilities(issues: Issues, path: str, value: object) -> list[str] | None:
    return values.strings(
        issues, path, value, max_items=CAPABILITIES_MAX, max_length=CAPABILITY_MAX
    )


_CHECKS: Final[dict[str, Callable[[Issues, str, object], Any]]] = {
    **described.CHECKS,
    "status": _status,
    "configuration": _configuration,
    "capabilities": _capabilities,
}
