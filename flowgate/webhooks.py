"""Signed webhook POSTs: the adapter to the receivers' HTTP servers.

What a receiver gets: a JSON body and the headers

- `Flowgate-Delivery`: the delivery's id, the same on every attempt: drop a repeat by it;
- `Flowgate-Event`: what happened (`execution.failed`, `execution.succeeded`,
  `approval.requested`);
- `Flowgate-Timestamp`: when this attempt was signed (seconds since the epoch);
- `Flowgate-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's secret,
  of `<timestamp>.<body>`. Check it with a constant-time comparison, and refuse an old
  timestamp to stop replays."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass

import httpx

from flowgate import webhook_targets

DELIVERY_HEADER = "Flowgate-Delivery"
EVENT_HEADER = "Flowgate-Event"
TIMESTAMP_HEADER = "Flowgate-Timestamp"
SIGNATURE_HEADER = "Flowgate-Signature"
USER_AGENT = "Flowgate-Webhooks/1"
# What is kept of a receiver's error answer in the delivery log.
MAX_LOGGED_BODY = 500


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (tests use it as one)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: a status code, or the error that prevented one."""

    status_code: int | None
    error: str | None
    duration_ms: int
    # An attempt that no retry can change (the target is refused): the delivery is given up.
    final: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(
    client: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    delivery_id: str,
    event: str,
    body: bytes,
    allow_private: bool,
) -> Outcome:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    started = time.perf_counter()
    try:
        # Bounded like a connection: the system resolver may wait far longer.
        async with asyncio.timeout(client.timeout.connect):
            target = await webhook_targets.pinned(url, allow_private=allow_private)
    except webhook_targets.TargetRefusedError as refused:
        return Outcome(None, str(refused)[:MAX_LOGGED_BODY], _ms(started), final=True)
    except webhook_targets.TargetUnresolvedError as unresolved:
        return Outcome(None, str(unresolved)[:MAX_LOGGED_BODY], _ms(started))
    except TimeoutError:
        return Outcome(None, "cannot resolve the URL's host: timed out", _ms(started))
    try:
        # Redirects are not followed: a receiver that moved must be set anew, and a redirect
        # must not carry the signed body somewhere nobody chose (nor into a private network).
        response = await client.post(
            target.url,
            content=body,
            headers={**headers, **target.headers},
            extensions=target.extensions,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        return Outcome(None, f"{type(error).__name__}: {error}"[:MAX_LOGGED_BODY], _ms(started))
    refusal = None if response.is_success else response.text[:MAX_LOGGED_BODY] or None
    return Outcome(response.status_code, refusal, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
