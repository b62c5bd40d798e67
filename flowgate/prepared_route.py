"""Prepared queries answered ahead of FastAPI's routing.

A POST to the GraphQL endpoint of a query the full path has answered fully compiled
(`schema.compiled.answer`) needs none of what lies between the gateway's own middlewares and
Strawberry's view: Starlette's exception middleware, FastAPI's exit stack, route matching
over every route, the request/response wrappers and the view's dispatch were about a quarter
of the CPU of `{ __typename }` (issue 16). This layer sits inside the request id, request log
and body limit middlewares, so every request still gets its id, its log line and its size
limit; it builds the request's context once, with the app's own context getter
(authentication and rate limits), and:

- a refusal there (a bad credential, a rate limit, a store down) is answered by the handler
  the app registered for it (`app.exception_handlers`: the one home of that mapping);
- a prepared query is answered by the router's prepared path;
- anything else goes on down the full path with this context (`context_of`), so that
  nothing is authenticated or counted against a rate limit twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from flowgate.protection.body_limit import replay_body
from resolvers.context import Context

# Where this layer leaves the context it built, for the full path's context getter.
_CONTEXT = "flowgate.context"

ContextGetter = Callable[[HTTPConnection], Awaitable[Context]]
PreparedAnswer = Callable[[Request, Context], Awaitable[Response | None]]


def context_of(connection: HTTPConnection) -> Context | None:
    """The context this request's prepared layer built, if it built one."""
    context = connection.scope.get(_CONTEXT)
    return context if isinstance(context, Context) else None


def plain_json_post(request: HTTPConnection) -> bool:
    """A POST of one JSON operation that wants one JSON answer: not a multipart upload, nor a
    subscription over SSE or multipart (which Strawberry's view serves)."""
    if not isinstance(request, Request) or request.method != "POST":
        return False
    headers = request.headers
    accept = headers.get("accept", "")
    return headers.get("content-type", "").startswith("application/json") and (
        "multipart" not in accept and "event-stream" not in accept
    )


class PreparedAnswers:
    def __init__(
        self, app: ASGIApp, *, path: str, context_for: ContextGetter, answer: PreparedAnswer
    ) -> None:
        self.app = app
        self.path = path
        self.context_for = context_for
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].removeprefix(scope.get("root_path", "")) == self.path
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if not plain_json_post(request):
            await self.app(scope, receive, send)
            return
        try:
            context = await self.context_for(request)
        except Exception as error:
            handler = _handler_for(scope, error)
            if handler is None:
                raise  # as from the route: the server error middleware answers 500
            response = handler(request, error)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return
        body = await request.body()  # read once; the full path reads it again from here
        response = await self.answer(request, context)
        if response is not None:
            await response(scope, receive, send)
            return
        scope[_CONTEXT] = context
        await self.app(scope, replay_body(body, receive), send)


def _handler_for(scope: Scope, error: Exception) -> Callable[..., Any] | None:
    """The app's handler of `error`'s class or nearest base, as Starlette looks it up."""
    handlers: dict[Any, Callable[..., Any]] = scope["app"].exception_handlers
    for kind in type(error).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None
