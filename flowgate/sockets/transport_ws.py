"""graphql-transport-ws, with Flowgate's checks (`flowgate.sockets.admission`)."""

from __future__ import annotations

from typing import Any, cast

import structlog
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from flowgate.sockets import grouped, wire
from flowgate.sockets.admission import (
    PROTOCOL_ERROR,
    TRY_AGAIN_LATER,
    Admitted,
    address_of,
    admit,
    message_problem,
)
from resolvers.context import Context

log = structlog.get_logger(__name__)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle(self) -> None:
        with self.context.guards.sockets.holding(address_of(self.context)) as admitted:
            if not admitted:
                await self.websocket.close(TRY_AGAIN_LATER, "Too many websockets from here")
                return
            await super().handle()

    async def handle_message(self, message: Message) -> None:
        problem = message_problem(message)
        if problem is not None:
            await self.websocket.close(PROTOCOL_ERROR, problem)
            return
        try:
            await super().handle_message(message)
        except Exception:
            # A bug of ours: logged (without locals) under the socket, which is closed.
            log.exception("websocket_message_failed", type=message["type"])
            await self.websocket.close(1011, "Internal error")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # closes it, 4401 or 4409
            return
        admitted = await admit(self.context, cast("dict[str, Any]", message["payload"]))
        if not isinstance(admitted, Admitted):
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [admitted.formatted]}
            )
            return
        await super().handle_subscribe(
            {**message, "payload": {**message["payload"], "query": admitted.query}}
        )

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        request = (operation.query, operation.variables, operation.operation_name)
        next_head = grouped.head({"id": operation.id, "type": "next"})
        sink = wire.sink(self.websocket, next_head)
        items = await grouped.grouped_items(self.view, self.schema, self.context, request, sink)
        if items is None:
            await super().run_operation(operation)
            return
        try:
            async for item in items:
                if operation.completed:
                    return
                if item.refused:
                    refusal = {"id": operation.id, "type": "error", "payload": list(item.errors)}
                    await operation.send_operation_message(cast("Message", refusal))
                    return
                await grouped.send_text(self.websocket, grouped.frame(next_head, item.payload))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except WebSocketDisconnected:
            return
