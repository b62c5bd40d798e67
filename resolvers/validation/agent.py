"""The fields of an agent, as `createAgent` and `updateAgent` receive them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from models.enums import AgentStatus
from resolvers.validation import described, values
from resolvers.validation.issues import IssueCode, Issues

CONFIGURATION_MAX_BYTES: Final = 16 * 1024
CAPABILITIES_MAX: Final = 50
CAPABILITY_MAX: Final = 100
TEMPERATURE_MIN: Final = 0.0
TEMPERATURE_MAX: Final = 2.0

REQUIRED_ON_CREATE: Final = ("name", "category")


def check_agent_fields(
    issues: Issues, given: Mapping[str, object], *, creating: bool
) -> dict[str, Any]:
    """The cleaned values of the fields in `given` (column name -> value). Only the fields
    given are checked and returned: an update changes exactly those."""
    if creating:
        for field in REQUIRED_ON_CREATE:
            if field not in given:
                issues.add(field, IssueCode.REQUIRED, "is required")
    cleaned: dict[str, Any] = {}
    for field, value in given.items():
        check = _CHECKS.get(field)
        if check is None:
            issues.add(field, IssueCode.INVALID, "is not a field of an agent")
        elif value is None:
            issues.add(field, IssueCode.REQUIRED, "must not be null; omit it to keep its value")
        else:
            checked = check(issues, field, value)
            if checked is not None:
                cleaned[field] = checked
    return cleaned


def _status(issues: Issues, path: str, value: object) -> AgentStatus | None:
    try:
        return AgentStatus(str(value))
    except ValueError:
        known = ", ".join(status.value for status in AgentStatus)
        issues.add(path, IssueCode.INVALID, f"must be one of {known}")
        return None


def _configuration(issues: Issues, path: str, value: object) -> dict[str, Any] | None:
    configuration = values.json_object(issues, path, value, max_bytes=CONFIGURATION_MAX_BYTES)
    if configuration is None or "temperature" not in configuration:
        return configuration
    temperature = configuration["temperature"]
    # bool is an int to Python, but `true` is no temperature.
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        issues.add(f"{path}.temperature", IssueCode.INVALID, "must be a number")
        return None
    if not TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX:
        issues.add(
            f"{path}.temperature",
            IssueCode.OUT_OF_RANGE,
            f"must be between {TEMPERATURE_MIN:g} and {TEMPERATURE_MAX:g}, got {temperature}",
        )
        return None
    return configuration


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
