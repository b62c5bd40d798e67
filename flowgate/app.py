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
        try:
            async with running_relay(services, settings.relay_interval):
                yield
        finally:
            await services.close()

    async def get_context(connection: HTTPConnection) -> Context:
        # Count from the very start of the request, so the principal lookup is counted too.
        round_trips = start_counting()
        principal = await connection.app.state.principals.resolve()
        return Context(connection.app.state.services, principal, round_trips)

    from schema import schema  # the schema imports resolvers; keep app import cheap

    graphql = GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if not settings.is_production else None,
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
    return app
