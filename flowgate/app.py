"""The app factory: FastAPI with GraphQL at /graphql, and the health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.requests import HTTPConnection
from fastapi.telemetry import TelemetryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from flowgate import gc_tuning, metrics, tracing
from flowgate.auth import AuthenticationError
from flowgate.auth.guards import Guards
from flowgate.auth.live import running_checks
from flowgate.auth.rate_limit import RateLimited
from flowgate.export import ExportInputError, export_input_error_response
from flowgate.export import router as export_router
from flowgate.graphiql import assets_router as graphiql_assets
from flowgate.health import STORE_ERRORS, store_unavailable_response
from flowgate.health import router as health_router
from flowgate.metrics_route import router as metrics_router
from flowgate.prepared_route import PreparedAnswers, context_of
from flowgate.principal import peer_address
from flowgate.protection.body_limit import BodyLimitMiddleware
from flowgate.protection.refusals import rate_limited_response, unauthenticated_response
from flowgate.protection.request_id import RequestIdMiddleware
from flowgate.request_log import RequestLogMiddleware
from flowgate.router import FlowgateRouter
from flowgate.search.indexer import running_indexer
from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.sockets.wire import KeepRawSend
from flowgate.stores.roundtrips import start_counting
from resolvers.context import Context
from resolvers.lifecycle.relay import running_relay
from resolvers.lifecycle.timeouts import running_sweeper
from resolvers.notifications.deliverer import running_deliverer
from schema.extensions.persisted import PersistedQueries

_NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings) -> FastAPI:
    """Build the app. Every store URL in `settings` must be resolved (see
    `flowgate.stores.embedded.embedded_stores` for the embedded defaults)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.open(settings, bounded=True)
        app.state.services = services
        app.state.guards = guards = Guards.create(services)
        metrics.watch(services)
        try:
            async with (
                tracing.running(settings),
                running_relay(services, settings.relay_interval),
                running_deliverer(services),
                running_sweeper(services, settings.timeout_sweep_interval),
                running_indexer(services),
                running_checks(guards.live_sessions),
                gc_tuning.running_settler(settings.gc_settle_interval),
            ):
                gc_tuning.settle()
                yield
        finally:
            metrics.unwatch(services)
            await guards.close()
            await app.state.persisted_queries.store.close()
            await services.close()

    async def get_context(connection: HTTPConnection) -> Context:
        built = context_of(connection)
        if built is not None:  # built ahead of the routing (`flowgate.prepared_route`)
            return built
        state = connection.app.state
        services: Services = state.services
        guards: Guards = state.guards
        # Read once: each read of `client` builds it again from the scope.
        client = connection.client
        host = client.host if client is not None else None
        address = peer_address(host)
        if connection.scope["type"] != "http":
            # A websocket signs in with its `connection_init` (flowgate.router), and is
            # limited by its operations in flight rather than by request rate.
            return Context(services, guards, None, start_counting(), address, json_answers=True)
        if host is not None:
            await guards.rate_limiter.check("address", host)
        # No credential: an anonymous context, which may only log in (every other field is
        # guarded). A credential that cannot be used: 401 before anything runs.
        principal = await guards.authenticator.authenticate(connection.headers.get("authorization"))
        if principal is not None:
            await guards.rate_limiter.check("principal", principal.rate_limit_key)
        services.postgres.start_request_reads()
        # Counted from here: the authentication read is per request (and cached), not per
        # field, so it is left out of the counts that depend on the query's shape.
        return Context(services, guards, principal, start_counting(), address, json_answers=True)

    from schema import schema  # the schema imports resolvers; keep app import cheap

    graphql = FlowgateRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        graphiql_assets=settings.graphiql_assets,
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
    app = FastAPI(
        title="Flowgate",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Tracing is the gateway's own (`flowgate.tracing`, on with `otlp_endpoint`). FastAPI's
        # native telemetry, which spans requests whenever a global OpenTelemetry provider is
        # set, asked for the global providers on every request to find that none was: about
        # 4% of the CPU of `{ __typename }` (issue 16).
        telemetry=_NO_FASTAPI_TELEMETRY,
    )
    app.include_router(graphql, prefix="/graphql")
    if settings.graphiql_enabled:  # GraphiQL's files, under /graphql/static
        app.include_router(graphiql_assets)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(export_router)
    _add_refusals(app)
    # Read here, so that a bad allow-list file stops the start with its reason.
    app.state.persisted_queries = PersistedQueries.from_settings(settings)
    # The last added runs first: every answer, a refused one too, carries its request id.
    app.add_middleware(
        PreparedAnswers, path="/graphql", context_for=get_context, answer=graphql.answer_prepared
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)  # inside RequestIdMiddleware: logs under its id
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(KeepRawSend)  # first of ours: uvicorn's own `send` (flowgate.sockets.wire)
    return app


def _add_refusals(app: FastAPI) -> None:
    """How a request refused before GraphQL runs is answered, by the error's class (the one
    home of that mapping: the prepared path answers through it too)."""
    app.add_exception_handler(ExportInputError, export_input_error_response)
    app.add_exception_handler(RateLimited, rate_limited_response)
    app.add_exception_handler(AuthenticationError, unauthenticated_response)
    for store_error in STORE_ERRORS:  # a store down before GraphQL runs: 503, naming it
        app.add_exception_handler(store_error, store_unavailable_response)
