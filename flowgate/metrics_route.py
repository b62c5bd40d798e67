"""`/metrics`: the Prometheus scrape endpoint. Apart from the metrics themselves
(`flowgate.metrics`), which the bus, the rate limiter and the schema extensions count into
without knowing HTTP."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The metrics, to a scraper that sends `Authorization: Bearer <metrics_token>` when
    that setting is set; without it, in development only (production refuses to serve them
    to anyone: set a token)."""
    settings = request.app.state.services.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if token is None and settings.is_production:
        return _refused(403, "Set FLOWGATE_METRICS_TOKEN to serve /metrics in production")
    sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token is not None and not hmac.compare_digest(sent.encode(), token.encode()):
        return _refused(401, "/metrics needs `Authorization: Bearer <the metrics token>`")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _refused(status: int, message: str) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain")
