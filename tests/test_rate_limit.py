"""Rate limits per client address and per principal: HTTP 429, a RATE_LIMITED error and
`Retry-After`; counted in Redis when one is configured, in the process otherwise."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI

from flowgate.stores.embedded import free_port
from tests.test_protection import TYPENAME, variant


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The shared Redis when `FLOWGATE_REDIS_URL` names one, else a private `redis-server`."""
    if url := os.environ.get("FLOWGATE_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: FLOWGATE_REDIS_URL is unset and redis-server is not on PATH")
    port = free_port()
    arguments = [binary, "--port", str(port), "--save", "", "--appendonly", "no"]
    with subprocess.Popen(arguments, stdout=subprocess.DEVNULL) as server:
        try:
            client = redis.Redis(port=port)
            for _ in range(100):
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        break
                time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()


@pytest.fixture(params=["in-process", "redis"])
def counter_url(request: pytest.FixtureRequest) -> str | None:
    """Where counts are kept: `None` in the process, else a Redis URL."""
    if request.param == "in-process":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


def from_address(client: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """A client of the same app that connects from `address`."""
    transport = client._transport  # the same app, another peer address
    assert isinstance(transport, httpx.ASGITransport)
    other = httpx.ASGITransport(app=transport.app, client=(address, 4321))
    return httpx.AsyncClient(
        transport=other, base_url="http://flowgate.test", headers=client.headers
    )


def random_address() -> str:
    return "10." + ".".join(str(byte) for byte in uuid.uuid4().bytes[:3])


async def query(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/graphql", json={"query": TYPENAME})


def assert_rate_limited(response: httpx.Response, scope: str) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    # Sliding windows: the wait may run into the next window (until the current one's
    # count, once it is the previous one, has aged enough), never past its end.
    assert 1 <= retry_after <= 2 * 60
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert f"3 requests per 60 s per {scope}" in error["message"]


async def test_an_address_over_its_limit_gets_429_and_others_do_not(
    app: FastAPI, counter_url: str | None, seeded: object
) -> None:
    # given: 3 requests a minute per address (a fresh address: Redis counts are shared)
    overrides: dict[str, Any] = {
        "rate_limit_per_address": 3,
        "rate_limit_per_principal": 0,
        "redis_url": counter_url,
    }
    async with (
        variant(app, **overrides) as base,
        from_address(base, random_address()) as client,
        from_address(base, random_address()) as other,
    ):
        # when
        served = [await query(client) for _ in range(3)]
        refused = await query(client)
        elsewhere = await query(other)

    # then
    assert [response.status_code for response in served] == [200, 200, 200]
    assert_rate_limited(refused, "address")
    assert elsewhere.status_code == 200


async def test_a_principal_is_limited_whatever_its_address(app: FastAPI, seeded: object) -> None:
    # given: 3 requests a minute per principal, no limit per address
    overrides = {"rate_limit_per_address": 0, "rate_limit_per_principal": 3, "redis_url": None}
    async with variant(app, **overrides) as base:
        # when: the same principal from four addresses
        responses = []
        for n in range(4):
            async with from_address(base, f"10.0.0.{n + 1}") as client:
                responses.append(await query(client))

    # then
    assert [response.status_code for response in responses[:3]] == [200, 200, 200]
    assert_rate_limited(responses[3], "principal")


async def test_a_request_down_the_full_path_is_counted_once(app: FastAPI, seeded: object) -> None:
    # given: 3 requests a minute per principal; requests that the prepared layer
    # (`flowgate.prepared_route`) hands on to the full path with the context it built: a
    # query it cannot answer (not compiled) and a text it has not seen answered yet
    overrides = {"rate_limit_per_address": 0, "rate_limit_per_principal": 3, "redis_url": None}
    workflows = {"query": "{ workflows(first: 1) { edges { node { id } } } }"}
    async with variant(app, **overrides) as client:
        # when
        served = [await client.post("/graphql", json=workflows) for _ in range(2)]
        served.append(await client.post("/graphql", json={"query": "{ me { id } }"}))
        refused = await client.post("/graphql", json=workflows)

    # then: each counted once, not once per context getter
    assert [response.status_code for response in served] == [200, 200, 200]
    assert all("errors" not in response.json() for response in served)
    assert_rate_limited(refused, "principal")


async def test_the_default_limits_leave_ordinary_use_alone(client: httpx.AsyncClient) -> None:
    responses = [await query(client) for _ in range(20)]
    assert {response.status_code for response in responses} == {200}
