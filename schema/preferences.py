"""A person's preferences, as read and as changed (`updateProfile`)."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.identity import preferences
from resolvers.identity.preferences import Theme

strawberry.enum(Theme, description="How the person's screens look: light, dark, or as the system.")


@strawberry.type(description="Which notifications the person wants.")
class NotificationSettings:
    execution_failed: bool = strawberry.field(description="When an execution fails.")
    execution_succeeded: bool = strawberry.field(description="When an execution succeeds.")
    weekly_digest: bool = strawberry.field(description="A weekly summary of the figures.")


@strawberry.type(description="A person's preferences; defaults where none was chosen.")
class Preferences:
    theme: Theme = strawberry.field(description="Light, dark, or as the system (default).")
    timezone: str = strawberry.field(
        description="A time zone of the tz database, such as `Europe/Paris` (default `UTC`)."
    )
    notifications: NotificationSettings = strawberry.field(
        description="Which notifications the person wants."
    )

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> Preferences:
        read = preferences.read(stored)
        return cls(
            theme=read.theme,
            timezone=read.timezone,
            notifications=NotificationSettings(**read.notifications),
        )


@strawberry.input(description="Notification switches to change; those left out stay.")
class NotificationSettingsInput:
    execution_failed: bool | None = strawberry.field(
        default=None, description="When an execution fails."
    )
    execution_succeeded: bool | None = strawberry.field(
        default=None, description="When an execution succeeds."
    )
    weekly_digest: bool | None = strawberry.field(
        default=None, description="A weekly summary of the figures."
    )


@strawberry.input(description="Preferences to change; those left out (or null) stay.")
class PreferencesInput:
    theme: Theme | None = strawberry.field(default=None, description="Light, dark or system.")
    timezone: str | None = strawberry.field(
        default=None, description="A tz database name, such as `America/New_York` or `UTC`."
    )
    notifications: NotificationSettingsInput | None = strawberry.field(
        default=None, description="Notification switches to change."
    )

    def to_change(self) -> preferences.PreferencesChange:
        switches = self.notifications
        given = (
            {
                name: value
                for name in preferences.NOTIFICATION_DEFAULTS
                if (value := getattr(switches, name)) is not None
            }
            if switches is not None
            else {}
        )
        return preferences.PreferencesChange(
            theme=self.theme, timezone=self.timezone, notifications=given
        )
