"""A graphql-transport-ws client, as a dashboard's would be: enough protocol for tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") in {"ping", "pong", "ka"}:
                continue
            return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, operation_id: str | None = None
    ) -> str:
        operation_id = operation_id or str(uuid.uuid4())
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return operation_id

    async def results(
        self, operation_id: str, timeout: float = 15.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Each `next` payload of the operation until `complete`; raises on `error`."""
        while True:
            message = await self.receive(timeout)
            if message.get("id") != operation_id:
                continue
            if message["type"] == "next":
                yield message["payload"]
            elif message["type"] == "complete":
                return
            elif message["type"] == "error":
                raise SubscriptionError(message["payload"])


class SubscriptionError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


@asynccontextmanager
async def connect(url: str, payload: dict[str, Any]) -> AsyncIterator[GraphQLWebSocket]:
    """A signed-in client: `payload` is the `connection_init` payload (`tests.auth.bearer`
    of a credential; the `admin_payload` fixture holds the admin's)."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        client = GraphQLWebSocket(connection)
        await client.send({"type": "connection_init", "payload": payload})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client
