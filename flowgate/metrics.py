"""Prometheus metrics, served at `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from flowgate.stores.roundtrips import RoundTrips

router = APIRouter()

ROUND_TRIPS = Histogram(
    "flowgate_request_round_trips",
    "Database round trips per GraphQL operation, by store.",
    ["store"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)


def observe_round_trips(round_trips: RoundTrips) -> None:
    ROUND_TRIPS.labels(store="postgresql").observe(round_trips.sql)
    ROUND_TRIPS.labels(store="mongodb").observe(round_trips.mongo)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
