"""A grouped subscription as one member sees it, for both websocket protocols: the items
its group renders, in its own queue, ending with a resumable SLOW_CONSUMER error if it
falls too far behind on items that may not be merged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected

from flowgate.sockets import grouping
from flowgate.sockets.grouping import Plan
from flowgate.sockets.groups import Rendered, RenderGroups, Sink
from flowgate.stores.roundtrips import start_counting
from resolvers.context import Context

SLOW_CONSUMER = "Too far behind: subscribe again (a dashboard refetches its list first)"


def render_groups(view: Any, context: Context) -> RenderGroups:
    """The view's groups (one view per app), made on first use."""
    groups: RenderGroups | None = getattr(view, "render_groups", None)
    if groups is None:
        groups = RenderGroups(context.services.settings.subscriber_queue_limit)
        view.render_groups = groups
    return groups


async def grouped_items(
    view: Any,
    schema: Any,
    context: Context,
    operation: tuple[str, dict[str, object] | None, str | None],
    sink: Sink | None = None,
) -> AsyncIterator[Rendered] | None:
    """The member's items if the operation may share a rendering (`grouping.plan`), else
    None: the protocol runs it on its own. Items `sink` writes (`flowgate.sockets.wire`)
    are sent already: they are not among them.

    The plan is dropped once its group is joined: its key (the document, the variables, the
    workflows one may read) is the group's already, one copy rather than one per member."""
    query, variables, operation_name = operation
    plan = await grouping.plan(context, schema, query, variables, operation_name)
    if plan is None:
        return None
    return follow(render_groups(view, context), plan, schema, context, operation, sink)


async def follow(
    groups: RenderGroups,
    plan: Plan,
    schema: Any,
    context: Context,
    operation: tuple[str, dict[str, object] | None, str | None],
    sink: Sink | None = None,
) -> AsyncIterator[Rendered]:
    """Join (or start) the group of `plan`; its items (those `sink` did not write); leave it
    when done."""
    query, variables, operation_name = operation

    async def source() -> Any:
        # The group's own context, made in the group's task: its loaders, round-trip count
        # and lifetime are the group's, not those of the member who happened to start it.
        own = Context(context.services, context.guards, context.principal, start_counting())
        own.request, own.connection_params = context.request, context.connection_params
        return await schema.subscribe(
            query,
            variable_values=variables,
            context_value=own,
            operation_name=operation_name,
        )

    group, member = groups.join(plan.key, source, replay_last=plan.replay_last)
    member.sink = sink
    response_key = plan.response_key
    del plan  # see `grouped_items`
    try:
        while (item := await member.next()) is not None:
            yield item
        if member.overflowed:
            yield slow_consumer(response_key)
    finally:
        group.leave(member)


def slow_consumer(response_key: str) -> Rendered:
    error = {
        "message": SLOW_CONSUMER,
        "path": [response_key],
        "extensions": {"code": "SLOW_CONSUMER", "resumeAfter": None},
    }
    return Rendered(payload=orjson.dumps({"data": None, "errors": [error]}).decode())


def frame(head: str, payload: str) -> str:
    """A message around an already encoded payload: `head` is its JSON up to `"payload":`."""
    return f"{head}{payload}}}"


def head(fields: dict[str, str]) -> str:
    return orjson.dumps(fields).decode()[:-1] + ',"payload":'


async def send_text(websocket: Any, text: str) -> None:
    try:
        await websocket.ws.send_text(text)
    except WebSocketDisconnect as exc:
        raise WebSocketDisconnected from exc
