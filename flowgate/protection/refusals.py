"""The answers to a request refused before GraphQL runs, as GraphQL errors: 401 for a
credential that cannot be used, 429 for a caller over its rate limit."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from flowgate.auth.authenticator import AuthenticationError
from flowgate.auth.rate_limit import RateLimited


async def unauthenticated_response(_: Request, exc: Exception) -> Response:
    """The FastAPI exception handler for `AuthenticationError`."""
    if not isinstance(exc, AuthenticationError):
        raise exc
    error = {"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}
    return Response(
        orjson.dumps({"data": None, "errors": [error]}),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="flowgate"'},
    )


async def rate_limited_response(_: Request, exc: Exception) -> Response:
    """The FastAPI exception handler for `RateLimited`."""
    if not isinstance(exc, RateLimited):
        raise exc
    error = {
        "message": exc.describe(),
        "extensions": {"code": "RATE_LIMITED", "retryAfter": exc.retry_after},
    }
    return Response(
        orjson.dumps({"data": None, "errors": [error]}),
        status_code=429,
        media_type="application/json",
        headers={"Retry-After": str(exc.retry_after)},
    )
