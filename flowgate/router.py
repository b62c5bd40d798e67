"""The GraphQL endpoint: Strawberry's FastAPI router, plus authentication of websockets.

HTTP requests are authenticated in the context getter (`flowgate.app`), from their
`Authorization` header. A websocket is authenticated when its `connection_init` arrives: the
credential goes in the payload, as `{"Authorization": "Bearer ..."}` (browsers cannot set
headers on a websocket; `authorization` and `token` are accepted too), or else in the upgrade
request's own header. No credential, or one that cannot be used, closes the socket with 4403
(graphql-transport-ws) or answers `connection_error` (the legacy graphql-ws protocol)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types.unset import UnsetType

from flowgate.auth import AuthenticationError
from flowgate.context import Context
from flowgate.graphiql import graphiql_page
from flowgate.settings import GraphiQLAssets
from resolvers.errors import SIGN_IN


def connection_credential(params: object, websocket: WebSocket) -> str | None:
    """The `Authorization`-style value a websocket client sent, wherever it put it."""
    if isinstance(params, dict):
        for name in ("Authorization", "authorization"):
            value = params.get(name)
            if isinstance(value, str):
                return value
        token = params.get("token")
        if isinstance(token, str):
            return f"Bearer {token}"
    return websocket.headers.get("authorization")


class TextFrames(ASGIWebSocketAdapter):
    """Websocket messages as text frames, as both protocols require: Strawberry sends bytes
    from `encode_json` as binary frames, which the graphql-ws clients of browsers (GraphiQL)
    and of Node (Apollo) cannot read ("Message is missing the 'type' property")."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class FlowgateRouter(GraphQLRouter[Context, None]):
    websocket_adapter_class = TextFrames

    def __init__(
        self, *args: Any, graphiql_assets: GraphiQLAssets = "bundled", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.graphiql_assets: GraphiQLAssets = graphiql_assets

    # GraphiQL opens on example operations and signs every tab in with one paste; its files
    # come from the gateway (or a CDN), under the page's own security headers.
    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page(self.graphiql_assets).html

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        page = graphiql_page(self.graphiql_assets)
        return HTMLResponse(page.html, headers=page.headers)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        websocket = context.request
        if not isinstance(websocket, WebSocket):  # Strawberry calls this for websockets only
            raise TypeError("on_ws_connect outside a websocket")
        credential = connection_credential(context.connection_params, websocket)
        try:
            principal = await context.guards.authenticator.authenticate(credential)
        except AuthenticationError as error:
            raise ConnectionRejectionError({"message": str(error)}) from None
        if principal is None:
            raise ConnectionRejectionError({"message": SIGN_IN})
        context.sign_in(principal)
        context.guards.live_sessions.add(principal, websocket)
        return None

    # orjson both ways: Strawberry's `json.dumps` was the costliest step after execution on
    # large answers. Answers hold only serialized scalars; JSON scalars may carry non-string
    # keys, which `json` accepts too.
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)
