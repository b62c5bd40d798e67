"""The app factory: FastAPI with GraphQL at /graphql, and the health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from flowgate.context import Context
from flowgate.health import router as health_router
from flowgate.metrics import router as metrics_router
from flowgate.principal import DevPrincipalResolver
from flowgate.protection.body_limit import BodyLimitMiddleware
from flowgate.protection.persisted import PersistedQueries
from flowgate.protection.rate_limit import RateLimited, create_rate_limiter, rate_limited_response
from flowgate.protection.request_id import RequestIdMiddleware
from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.stores.roundtrips import start_counting
from resolvers.lifecycle.relay import running_relay


def create_app(settings: Settings) -> FastAPI:
    """Build the app. Every store URL in `settings` must be resolved (see
    `flowgate.stores.embedded.embedded_stores` for the embedded defaults)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.open(settings)
        app.state.services = services
        app.state.principals = DevPrincipalResolver(settings, services.postgres)
        app.state.rate_limiter = create_rate_limiter(settings)
        try:
            async with running_relay(services, settings.relay_interval):
                yield
        finally:
            await app.state.rate_limiter.close()
            await app.state.persisted_queries.store.close()
            await services.close()

    async def get_context(connection: HTTPConnection) -> Context:
        # Count from the very start of the request, so the principal lookup is counted too.
        round_trips = start_counting()
        # HTTP requests are rate limited; a websocket is limited by its operations in flight.
        http = connection.scope["type"] == "http"
        limiter = connection.app.state.rate_limiter
        if http and connection.client is not None:
            await limiter.check("address", connection.client.host)
        principal = await connection.app.state.principals.resolve()
        if http and principal is not None:
            await limiter.check("principal", f"{principal.organization_id}:{principal.user_id}")
        return Context(connection.app.state.services, principal, round_trips)

    from schema import schema  # the schema imports resolvers; keep app import cheap

    graphql = GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        # Queries may come over GET (cacheable); mutations over GET are refused (Strawberry's
        # default, pinned by tests/test_protection.py).
        allow_queries_via_get=True,
        max_subscriptions_per_connection=settings.max_ws_operations,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        # A client that opens a socket and never says hello is closed after a few seconds
        # (4408), not after Strawberry's default minute.
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
        keep_alive=True,
        keep_alive_interval=settings.ws_keep_alive_interval,
    )
    app = FastAPI(title="Flowgate", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(graphql, prefix="/graphql")
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.add_exception_handler(RateLimited, rate_limited_response)
    # Read here, so that a bad allow-list file stops the start with its reason.
    app.state.persisted_queries = PersistedQueries.from_settings(settings)
    # The last added runs first: every answer, a refused one too, carries its request id.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
