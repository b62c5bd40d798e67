"""Liveness and readiness.

`/healthz` says the process answers. `/readyz` checks each store with a real round trip and
reports its latency; any store down turns it into a 503 that names the store, which is what a
load balancer needs to take this replica out of rotation. It also says whether the event bus
is up, degraded (publishes failing or stalled) or down."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pymongo.errors import PyMongoError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from flowgate.request_scope import current_request_id
from flowgate.services import Services
from flowgate.stores.errors import StoreUnavailableError, unreachable_store

router = APIRouter()

# A readiness probe must answer quickly even when a store hangs.
READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    checks = {"postgresql": services.postgres.ping(), "mongodb": services.mongo.ping()}
    results = await asyncio.gather(*(_check(name, probe) for name, probe in checks.items()))
    stores = dict(results)
    down = [name for name, result in stores.items() if result["status"] != "up"]
    body = {
        "status": "ready" if not down else "unavailable",
        "down": down,
        "stores": stores,
        "bus": _bus(services),
    }
    return JSONResponse(body, status_code=503 if down else 200)


def _bus(services: Services) -> dict[str, str]:
    """The event bus, reported but not part of readiness: without it, queries and mutations
    still work and streams catch up from the log, so a replica stays in rotation."""
    bus = services.bus
    status = "down" if not bus.connected else "degraded" if bus.degraded else "up"
    return {"status": status, "backend": bus.description}


async def _check(name: str, probe: Any) -> tuple[str, dict[str, Any]]:
    try:
        latency = await asyncio.wait_for(probe, READY_TIMEOUT_SECONDS)
    except StoreUnavailableError as error:
        return name, {"status": "down", "error": str(error)}
    except TimeoutError:
        return name, {"status": "down", "error": f"no answer within {READY_TIMEOUT_SECONDS}s"}
    return name, {"status": "up", "latencyMs": round(latency, 2)}


# What a store outage raises before GraphQL runs (authentication reads PostgreSQL): asyncpg's
# OSErrors, SQLAlchemy's wrapped errors, pymongo's connection failures and timeouts.
STORE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    DBAPIError,
    PoolTimeoutError,
    PyMongoError,
)


async def store_unavailable_response(_: Request, exc: Exception) -> Response:
    """503 with a GraphQL error naming the store, for an outage met before execution (the
    credential could not be checked); anything else is re-raised, to become a 500."""
    store = unreachable_store(exc)
    if store is None:
        raise exc
    request_id = current_request_id()
    error = {
        "message": f"{store} is unavailable; retry later (request id {request_id})",
        "extensions": {"code": "STORE_UNAVAILABLE", "store": store, "requestId": request_id},
    }
    return Response(
        orjson.dumps({"data": None, "errors": [error]}),
        status_code=503,
        media_type="application/json",
        headers={"Retry-After": "5"},
    )
