"""A Starlette websocket as `flowgate.auth.live` closes it."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketState


@dataclass(frozen=True)
class ClosableWebSocket:
    websocket: WebSocket

    @property
    def open(self) -> bool:
        return WebSocketState.DISCONNECTED not in (
            self.websocket.client_state,
            self.websocket.application_state,
        )

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)
