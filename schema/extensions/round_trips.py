"""Schema extensions: what every operation gets, whatever its fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from flowgate.metrics import observe_round_trips
from resolvers.context import Context


class RoundTripsInExtensions(SchemaExtension):
    """Counts each operation's round trips in the `flowgate_request_round_trips` histogram, and
    reports the request's SQL and MongoDB round trips in `extensions.roundTrips` when the
    `debug_round_trips` setting is on: the number the N+1 tests and the benchmark read."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            observe_round_trips(context.round_trips)

    def get_results(self) -> dict[str, Any]:
        return round_trip_results(self.execution_context.context)


def round_trip_results(context: object) -> dict[str, Any]:
    """The operation's `extensions` entry (the prepared path, which runs no extension, adds
    it the same way)."""
    if isinstance(context, Context) and context.services.settings.debug_round_trips:
        return {"roundTrips": context.round_trips.as_dict()}
    return {}
