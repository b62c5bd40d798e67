"""A person's preferences: what may be stored, the defaults, and how a change is checked.

Stored as JSON on the user row; read back through `read`, which fills in defaults, so an
account created before a preference existed still answers every field."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from resolvers.validation.issues import IssueCode, Issues


class Theme(StrEnum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"


# Each switch and whether it is on for someone who never chose.
NOTIFICATION_DEFAULTS: dict[str, bool] = {
    "execution_failed": True,
    "execution_succeeded": False,
    "weekly_digest": False,
}
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Preferences:
    theme: Theme = Theme.SYSTEM
    timezone: str = DEFAULT_TIMEZONE
    notifications: dict[str, bool] = field(default_factory=lambda: dict(NOTIFICATION_DEFAULTS))


@dataclass(frozen=True)
class PreferencesChange:
    """What to change; `None` (or a switch left out) keeps the stored value."""

    theme: Theme | None = None
    timezone: str | None = None
    notifications: dict[str, bool] = field(default_factory=dict)


def read(stored: dict[str, Any] | None) -> Preferences:
    stored = stored or {}
    theme = stored.get("theme")
    switches = stored.get("notifications") or {}
    return Preferences(
        theme=Theme(str(theme)) if theme in Theme._value2member_map_ else Theme.SYSTEM,
        timezone=stored.get("timezone") or DEFAULT_TIMEZONE,
        notifications={
            name: bool(switches.get(name, default))
            for name, default in NOTIFICATION_DEFAULTS.items()
        },
    )


def apply(
    issues: Issues, path: str, stored: dict[str, Any] | None, change: PreferencesChange
) -> dict[str, Any]:
    """The stored preferences with `change` applied; problems recorded in `issues`."""
    current = read(stored)
    timezone = current.timezone
    if change.timezone is not None:
        name = change.timezone.strip()
        if name in _timezones():
            timezone = name
        else:
            issues.add(
                f"{path}.timezone",
                IssueCode.INVALID,
                f"{change.timezone[:60]!r} is not a time zone of the tz database "
                "(such as 'Europe/Paris' or 'UTC')",
            )
    return {
        "theme": (change.theme or current.theme).value,
        "timezone": timezone,
        "notifications": {**current.notifications, **change.notifications},
    }


@functools.cache
def _timezones() -> frozenset[str]:
    # The set of names, rather than `ZoneInfo(name)`: that also accepts file paths under the
    # zone directory and raises a different error for each kind of nonsense.
    return frozenset(zoneinfo.available_timezones())
