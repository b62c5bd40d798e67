"""The GraphQL endpoint: Strawberry's FastAPI router, plus authentication of websockets.

HTTP requests are authenticated in the context getter (`flowgate.app`), from their
`Authorization` header. A websocket is authenticated when its `connection_init` arrives: the
credential goes in the payload, as `{"Authorization": "Bearer ..."}` (browsers cannot set
headers on a websocket; `authorization` and `token` are accepted too), or else in the upgrade
request's own header. No credential, or one that cannot be used, closes the socket with 4403
(graphql-transport-ws) or answers `connection_error` (the legacy graphql-ws protocol)."""

from __future__ import annotations

import orjson
import structlog
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UnsetType

from flowgate.auth import AuthenticationError
from flowgate.context import Context
from resolvers.errors import SIGN_IN

log = structlog.get_logger(__name__)


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


class FlowgateRouter(GraphQLRouter[Context, None]):
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
