"""The authenticator's cache under concurrency: requests of one credential that find no
entry share one lookup (`flowgate.auth.authenticator`)."""

from __future__ import annotations

import asyncio

import pytest

from flowgate.auth.authenticator import AuthenticationError, Authenticator
from flowgate.principal import Principal
from flowgate.services import Services
from flowgate.stores.roundtrips import start_counting
from tests.auth import ADMIN, api_key_for


async def _statements(
    services: Services, secret: str, requests: int
) -> tuple[int, list[Principal]]:
    """SQL statements sent by `requests` concurrent authentications of `secret` against an
    empty cache, and what each got."""
    authenticator = Authenticator(services.settings, services.postgres)
    counter = start_counting()  # the lookup's task copies this context: it counts here
    found = await asyncio.gather(*(authenticator.principal_for(secret) for _ in range(requests)))
    return counter.sql, list(found)


async def test_concurrent_requests_of_one_key_share_one_lookup(
    services: Services, seeded: object
) -> None:
    secret, principal = await api_key_for(services, ADMIN, "single-flight")
    await _statements(services, secret, 1)  # `last_used_at` written now, not below
    alone, _ = await _statements(services, secret, 1)
    together, found = await _statements(services, secret, 16)
    assert alone >= 1
    assert together == alone  # one lookup for the sixteen, not sixteen
    assert found == [principal] * 16


async def test_a_refused_lookup_is_every_waiters_answer_and_not_remembered(
    services: Services, seeded: object
) -> None:
    authenticator = Authenticator(services.settings, services.postgres)
    unknown = "fgk_0123456789ab_" + "x" * 43
    answers = await asyncio.gather(
        *(authenticator.principal_for(unknown) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(answer, AuthenticationError) for answer in answers)
    assert str(answers[0]) == "Unknown API key"
    with pytest.raises(AuthenticationError):  # asked again: looked up again, refused again
        await authenticator.principal_for(unknown)


async def test_a_lookup_in_flight_when_access_changes_is_not_remembered(
    services: Services, seeded: object
) -> None:
    secret, principal = await api_key_for(services, ADMIN, "forgotten")
    authenticator = Authenticator(services.settings, services.postgres)
    lookup = asyncio.ensure_future(authenticator.principal_for(secret))
    await asyncio.sleep(0)  # the lookup has started
    authenticator.forget(user_id=principal.user_id)  # e.g. the user's role lowered
    assert await lookup == principal  # its own answer stands...
    counter = start_counting()
    await authenticator.principal_for(secret)  # ...but the next request reads again
    assert counter.sql >= 1


async def test_a_waiter_that_goes_away_does_not_cancel_the_others(
    services: Services, seeded: object
) -> None:
    secret, principal = await api_key_for(services, ADMIN, "gone-away")
    authenticator = Authenticator(services.settings, services.postgres)
    first = asyncio.ensure_future(authenticator.principal_for(secret))
    second = asyncio.ensure_future(authenticator.principal_for(secret))
    await asyncio.sleep(0)
    first.cancel()  # its client disconnected
    assert await second == principal
    with pytest.raises(asyncio.CancelledError):
        await first
