"""The legacy graphql-ws protocol, held to what graphql-transport-ws enforces: a socket
that does not say `connection_init` in time is closed (4408), a second `connection_init`
is refused (4429) instead of acknowledged with one more keep-alive task each (20,000 of
them pinned the CPU), and malformed frames close the socket (4400)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

import structlog
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
    StartMessage,
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


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    init_received = False

    async def handle(self) -> None:
        with self.context.guards.sockets.holding(address_of(self.context)) as admitted:
            if not admitted:
                await self.websocket.close(TRY_AGAIN_LATER, "Too many websockets from here")
                return
            timeout = asyncio.create_task(self._close_unless_initialised())
            try:
                await super().handle()
            finally:
                timeout.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timeout

    async def _close_unless_initialised(self) -> None:
        wait: Any = getattr(self.view, "connection_init_wait_timeout", None)
        await asyncio.sleep(wait.total_seconds() if wait is not None else 60)
        if not self.init_received:
            await self.websocket.close(4408, "Connection initialisation timeout")

    async def handle_message(self, message: OperationMessage) -> None:
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

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_start(message)  # closes it, 4401
            return
        admitted = await admit(self.context, cast("dict[str, Any]", message["payload"]))
        if not isinstance(admitted, Admitted):
            await self.send_message(
                {"type": "error", "id": message["id"], "payload": admitted.formatted}
            )
            return
        await super().handle_start(
            {**message, "payload": {**message["payload"], "query": admitted.query}}
        )

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        request = (query, variables, operation_name)
        data_head = grouped.head({"type": "data", "id": operation_id})
        sink = wire.sink(self.websocket, data_head)
        items = await grouped.grouped_items(self.view, self.schema, self.context, request, sink)
        if items is None:
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        try:
            async for item in items:
                if item.refused:
                    # As Strawberry answers an operation refused before it runs: the first error.
                    payload = item.errors[0] if item.errors else {"message": "Refused"}
                    await self.send_message(
                        cast("Any", {"type": "error", "id": operation_id, "payload": payload})
                    )
                    return
                await grouped.send_text(self.websocket, grouped.frame(data_head, item.payload))
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            # Stopped (`stop`) or the socket closed: say so, as Strawberry does.
            with contextlib.suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        except WebSocketDisconnected:
            return
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
