"""Talking to the gateway as an external engine would: GraphQL over HTTP, an idempotency key
on every mutation, and one retry with the same key when the network loses a call."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

KEY_PREFIX = "sim-"


class GatewayError(Exception):
    """The gateway failed a whole operation (an HTTP error or GraphQL `errors`), as opposed
    to a typed error result, which the caller reads from the answer."""


class Gateway:
    """One engine's connection to the gateway. `http` carries the base URL (or an ASGI
    transport in tests); `path` is where GraphQL is served; `tag`, if given, is sent as the
    `client` query parameter of every request, which lets access logs tell them apart."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        path: str = "/graphql",
        tag: str | None = None,
        retry_delay: float = 0.25,
    ) -> None:
        self._http = http
        self._path = path
        self._params = {"client": tag} if tag else None
        self._retry_delay = retry_delay
        self.retries = 0  # calls that were sent a second time after a network error

    async def wait_until_ready(self, *, poll: float = 0.2) -> None:
        """Return once `/healthz` answers 200; until then the server is still starting."""
        while True:
            try:
                response = await self._http.get("/healthz", params=self._params)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(poll)

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """A read: safe to send twice, so it is retried like a mutation (without a key)."""
        return await self._post(document, variables or {}, operation="query", key=None)

    async def mutate(self, field: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a lifecycle mutation whose document takes `$key` as its idempotency key; a
        fresh key per logical call, reused for the retry. Returns the typed result."""
        key = f"{KEY_PREFIX}{uuid.uuid4()}"
        data = await self._post(document, {**variables, "key": key}, operation=field, key=key)
        result: dict[str, Any] = data[field]
        return result

    async def _post(
        self, document: str, variables: dict[str, Any], *, operation: str, key: str | None
    ) -> Any:
        payload = {"query": document, "variables": variables}
        try:
            response = await self._http.post(self._path, json=payload, params=self._params)
        except httpx.TransportError as error:
            # The call may or may not have reached the gateway: send it again, once, with
            # the same key, and the gateway answers a repeat as it answered the first.
            self.retries += 1
            log.info(
                "network error, retrying with the same idempotency key",
                operation=operation,
                key=key,
                error=repr(error),
            )
            await asyncio.sleep(self._retry_delay)
            response = await self._http.post(self._path, json=payload, params=self._params)
        if response.status_code != 200:
            raise GatewayError(f"{operation}: HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        if body.get("errors"):
            raise GatewayError(f"{operation}: {body['errors'][0].get('message')}")
        return body["data"]
