"""The differential harness of compiled execution: the same request to the session's app
(compiled execution on, the default) and to a twin with `compiled_execution=False`, as the
same seeded user, must give the same data and errors (byte for byte once keys are sorted),
and the compiled answer may not cost more round trips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from flowgate.app import create_app
from flowgate.metrics import PREPARED_ANSWERS
from flowgate.services import Services
from flowgate.settings import Settings
from tests.auth import api_key_for, bearer

# Every seeded role of both organizations (flowgate/seed/organizations.py).
ROLES = tuple(
    f"{role}@{slug}.example" for slug in ("acme", "globex") for role in ("admin", "user", "viewer")
)


async def plain_app(settings: Settings, services: Services) -> AsyncIterator[FastAPI]:
    """A twin of the session's app that answers every field through the resolvers."""
    application = create_app(settings.model_copy(update={"compiled_execution": False}))
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        # Beanie binds the documents to one client per process: the twin's, which its
        # lifespan has closed. Bind them back to the session's.
        await services.mongo.open()


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def canonical(self) -> bytes:
        """Data and errors with sorted keys: what must be equal byte for byte. A masked
        error names its request's id, which differs by nature: it is left out."""
        kept = {key: self.body.get(key) for key in ("data", "errors")}
        text = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
        request_id = self.body.get("extensions", {}).get("requestId")
        for error in self.body.get("errors") or ():
            request_id = error.get("extensions", {}).get("requestId", request_id)
        return text.replace(request_id.encode(), b"<request id>") if request_id else text

    @property
    def round_trips(self) -> dict[str, int]:
        trips: dict[str, int] = self.body.get("extensions", {}).get("roundTrips", {})
        return trips


@dataclass
class Pair:
    """One seeded user's clients of both apps."""

    email: str
    compiled: httpx.AsyncClient
    plain: httpx.AsyncClient

    async def both(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[Answer, Answer]:
        request = {"query": query, "variables": variables or {}}
        # Side by side: the two apps share nothing but the stores.
        compiled, plain = await asyncio.gather(
            self.compiled.post("/graphql", json=request), self.plain.post("/graphql", json=request)
        )
        return Answer(compiled.status_code, compiled.json()), Answer(
            plain.status_code, plain.json()
        )

    async def check(
        self, query: str, variables: dict[str, Any] | None = None, *, roots: int = 1
    ) -> Answer:
        """Both answers equal, compiled round trips no more; returns the compiled answer.

        Round trips are compared for one root field without errors only: two root fields
        resolved by the resolvers share loader batches or not depending on which store
        answers first, and an error abandons sibling fields whose loads may or may not have
        gone out yet, on either path."""
        compiled, plain = await self.both(query, variables)
        context = f"as {self.email}: {query}\nvariables: {variables}"
        assert compiled.status == plain.status, context
        assert compiled.canonical == plain.canonical, f"{context}\n{_difference(compiled, plain)}"
        # Once answered fully compiled, the same text is a prepared operation: the second
        # request takes the prepared path (`schema.compiled.answer`), which must answer the
        # same, at the same round trips.
        again = await self.compiled.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        prepared = Answer(again.status_code, again.json())
        assert prepared.status == compiled.status, context
        assert prepared.canonical == compiled.canonical, (
            f"prepared {context}\n{_difference(prepared, compiled)}"
        )
        assert "errors" in plain.body or prepared.round_trips == compiled.round_trips, context
        comparable = roots == 1 and "errors" not in plain.body
        for store, trips in compiled.round_trips.items() if comparable else ():
            # The one exception: a statement that reads executions (or their figures, `stats`)
            # asks MongoDB for the workflows a non-admin may read before it runs, where the
            # resolvers may find that they read no execution at all (an empty page of
            # agents, `first: 0`).
            member = not self.email.startswith("admin@")
            reads = "execution" in query or "stats" in query
            allowance = int(store == "mongo" and member and reads)
            assert trips <= plain.round_trips.get(store, 0) + allowance, (
                context,
                compiled.round_trips,
                plain.round_trips,
            )
        return compiled


async def pairs(
    services: Services, compiled_app: FastAPI, plain: FastAPI, stack: AsyncExitStack
) -> dict[str, Pair]:
    made: dict[str, Pair] = {}
    for email in ROLES:
        secret, _ = await api_key_for(services, email, "compiled-diff")
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://flowgate.test",
                    headers=bearer(secret),
                )
            )
            for app in (compiled_app, plain)
        ]
        made[email] = Pair(email, clients[0], clients[1])
    return made


@pytest.fixture(scope="module")
async def users(
    settings: Settings, services: Services, app: FastAPI, seeded: object
) -> AsyncIterator[dict[str, Pair]]:
    """Each seeded user's pair of clients, one of the gateway (compiled) and one of an app
    that answers every field through its resolvers; for the module that imports it."""
    async with AsyncExitStack() as stack:
        async for plain in plain_app(settings, services):
            yield await pairs(services, app, plain, stack)


def prepared_answers() -> float:
    """How many queries the prepared path has answered in this process."""
    return PREPARED_ANSWERS.labels(outcome="answered")._value.get()


def _difference(compiled: Answer, plain: Answer) -> str:
    """Where the two canonical answers first differ, with some context."""
    left, right = compiled.canonical, plain.canonical
    at = next((i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b), 0)
    start = max(0, at - 300)
    return f"compiled: ...{left[start : at + 300]!r}\nplain:    ...{right[start : at + 300]!r}"
