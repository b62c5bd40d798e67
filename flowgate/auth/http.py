"""The answer to a request whose credential cannot be used: 401, as a GraphQL error."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from flowgate.auth.authenticator import AuthenticationError


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
