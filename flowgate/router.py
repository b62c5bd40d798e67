"""The GraphQL endpoint: Strawberry's FastAPI router, plus authentication of websockets.

HTTP requests are authenticated in the context getter (`flowgate.app`), from their
`Authorization` header. A websocket is authenticated when its `connection_init` arrives: the
credential goes in the payload, as `{"Authorization": "Bearer ..."}` (browsers cannot set
headers on a websocket; `authorization` and `token` are accepted too), or else in the upgrade
request's own header. No credential, or one that cannot be used, closes the socket with 4403
(graphql-transport-ws) or answers `connection_error` (the legacy graphql-ws protocol)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import orjson
import structlog
from cross_web import HTTPException  # what Strawberry's HTTP views raise to refuse
from fastapi.routing import APIRoute
from graphql import GraphQLError, OperationType, get_operation_ast
from starlette.background import BackgroundTasks
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.base import BaseSchema
from strawberry.types.unset import UNSET, UnsetType

from flowgate.auth import AuthenticationError
from flowgate.graphiql import graphiql_page
from flowgate.settings import GraphiQLAssets
from flowgate.sockets.closable import ClosableWebSocket
from flowgate.sockets.legacy_ws import LegacyWSHandler
from flowgate.sockets.transport_ws import TransportWSHandler
from resolvers.context import Context
from resolvers.errors import SIGN_IN
from schema.compiled.answer import answer_prepared
from schema.extensions.limits import parse_cached

log = structlog.get_logger("flowgate.router")

NOT_AN_OBJECT = 'The request body must be a JSON object: {"query": ..., "variables": {...}}'
SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions run over a websocket (graphql-transport-ws or graphql-ws), not over HTTP"
)
# The code of each refusal Strawberry makes before an operation runs, by HTTP status.
_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class CodedHTTPError(HTTPException):
    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


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


ContextGetter = Callable[[HTTPConnection], Awaitable[Context]]
Endpoint = Callable[..., Awaitable[Response]]


def direct_route(context_for: ContextGetter) -> type[APIRoute]:
    """FastAPI's route for Strawberry's GET and POST endpoints, with their arguments passed
    directly rather than solved by FastAPI's dependency injection.

    Strawberry declares them as `(request, response, context=Depends(...), root_value=
    Depends(...))`; solving that tree on every request (signature checks, caches, exit
    stacks) was about an eighth of the CPU of `{ __typename }` (issue 16). Here the endpoint
    gets what FastAPI would give it: the request, a blank sub-response, the app's context
    with Strawberry's `request`, `background_tasks` and `response` set, and no root value.
    The route is otherwise FastAPI's (matching, 405s, exception handlers, /openapi.json)."""

    class DirectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            endpoint: Endpoint = self.endpoint

            async def handle(request: Request) -> Response:
                context = await context_for(request)
                sub_response = _bind_request(context, request)
                response = await endpoint(
                    request=request, response=sub_response, context=context, root_value=None
                )
                if response.background is None:  # as FastAPI does with a returned response
                    response.background = context.background_tasks
                return response

            return handle

    return DirectRoute


def _bind_request(context: Context, request: Request) -> Response:
    """Give the context what Strawberry's view expects of it: the request, its background
    tasks, and a blank sub-response (as FastAPI makes the `Response` parameter), returned."""
    sub_response = Response()
    del sub_response.headers["content-length"]
    sub_response.status_code = None  # type: ignore[assignment]
    context.request = request
    context.background_tasks = BackgroundTasks()
    context.response = sub_response
    return sub_response


class FlowgateRouter(GraphQLRouter[Context, None]):
    websocket_adapter_class = TextFrames
    # Both protocols check every frame, count operations against the rate limits and cap
    # sockets per address (`flowgate.sockets`).
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        context_getter: ContextGetter,
        graphiql_assets: GraphiQLAssets = "bundled",
        **kwargs: Any,
    ) -> None:
        # No `root_value_getter`: `direct_route` passes no root value.
        super().__init__(
            schema,
            context_getter=context_getter,
            route_class=direct_route(context_getter),
            **kwargs,
        )
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
        context.guards.live_sessions.add(principal, ClosableWebSocket(websocket))
        return None

    # orjson both ways: Strawberry's `json.dumps` was the costliest step after execution on
    # large answers. Answers hold only serialized scalars; JSON scalars may carry non-string
    # keys, which `json` accepts too.
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    # Strawberry answers what it refuses before an operation runs (a body that is not JSON,
    # a mutation over GET) in plain text; clients read GraphQL errors with a code.
    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as refused:
            code = getattr(refused, "code", None) or _HTTP_CODES.get(refused.status_code)
            error = {"message": refused.reason, "extensions": {"code": code or "BAD_REQUEST"}}
            return Response(
                orjson.dumps({"data": None, "errors": [error]}),
                status_code=refused.status_code,
                media_type="application/json",
            )

    async def answer_prepared(self, request: Request, context: Context) -> Response | None:
        """A query the full path has answered fully compiled, answered again without
        Strawberry's view (`schema.compiled.answer`), from ahead of the routing
        (`flowgate.prepared_route`); None: the full path answers."""
        if not context.services.settings.compiled_execution:
            return None
        _bind_request(context, request)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None  # Strawberry's own answer
        persisted = getattr(request.app.state, "persisted_queries", None)
        try:
            data = await answer_prepared(self.schema, body, context, persisted)
        except Exception:  # a bug here must not fail the request: the full path answers it
            log.warning("prepared path failed; answered by the full path", exc_info=True)
            return None
        if data is None or context.response is None:
            return None
        return self.create_response(data, context.response)

    async def parse_http_body(self, request: Any) -> Any:
        # A JSON body that is not an object (`null`, `123`, a batch) crashed Strawberry's
        # `data.get(...)`: a 500. Valid JSON that starts with `{` is an object.
        if request.method == "POST" and "json" in (request.content_type or ""):
            body = await request.get_body()
            if body.lstrip()[:1] not in (b"{", "{"):
                with contextlib.suppress(ValueError):
                    orjson.loads(body)  # not JSON at all: Strawberry's own answer
                    raise CodedHTTPError(400, NOT_AN_OBJECT, "BAD_REQUEST")
        return await super().parse_http_body(request)

    async def execute_single(  # Strawberry's signature
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> Any:
        # Strawberry runs a subscription sent over HTTP as a query, which fails inside.
        if request_data.query:
            with contextlib.suppress(GraphQLError):  # a bad text gets its own error
                document = parse_cached(request_data.query, context.services.settings.max_tokens)
                operation = get_operation_ast(document, request_data.operation_name)
                if operation is not None and operation.operation == OperationType.SUBSCRIPTION:
                    raise CodedHTTPError(400, SUBSCRIPTION_OVER_HTTP, "OPERATION_TYPE_NOT_ALLOWED")
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
