"""What people change about themselves: their profile, their preferences, their password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.services import Services
from tests.auth import USER, client_as
from tests.people import PASSWORD, Joined, People, post

UPDATE_PROFILE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on UpdateProfilePayload {
      user {
        name firstName lastName username updatedAt
        preferences { theme timezone notifications { executionFailed weeklyDigest } }
      }
    }
    ... on ValidationError { issues { path code message } }
  }
}
"""
CHANGE_LOGIN = """
mutation Change($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) {
    __typename
    ... on ChangePasswordPayload { user { email } }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename ... on LoginPayload { accessToken refreshToken }
  }
}
"""
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }"
PROFILE = "{ me { username preferences { theme timezone } } }"


@pytest.fixture
async def people(
    services: Services, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> AsyncIterator[People]:
    async with People.open(services, client, anonymous) as made:
        yield made


@pytest.fixture
async def person(people: People, app: FastAPI) -> AsyncIterator[tuple[Joined, httpx.AsyncClient]]:
    joined = await people.join("me")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=joined.headers
    ) as http:
        yield joined, http


async def _update(http: httpx.AsyncClient, **input_: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await post(http, UPDATE_PROFILE, {"input": input_}))["data"][
        "updateProfile"
    ]
    return result


async def test_a_profile_and_typed_preferences_are_changed_and_read_back(
    person: tuple[Joined, httpx.AsyncClient],
) -> None:
    _, http = person
    # when
    result = await _update(
        http,
        firstName="Ada",
        lastName="Lovelace",
        username="Ada.L",
        preferences={"theme": "DARK", "timezone": "Europe/Paris",
                     "notifications": {"weeklyDigest": True}},
    )  # fmt: skip

    # then: set fields change, the rest keep their defaults
    assert result["__typename"] == "UpdateProfilePayload", result
    user = result["user"]
    assert (user["firstName"], user["lastName"], user["username"]) == ("Ada", "Lovelace", "ada.l")
    assert user["name"] == "Test Person"
    assert user["preferences"] == {
        "theme": "DARK",
        "timezone": "Europe/Paris",
        "notifications": {"executionFailed": True, "weeklyDigest": True},
    }
    # a later partial change keeps what it does not name
    again = await _update(http, preferences={"theme": "LIGHT"}, firstName="")
    assert again["user"]["preferences"]["timezone"] == "Europe/Paris"
    assert again["user"]["preferences"]["theme"] == "LIGHT"
    assert again["user"]["firstName"] is None


@pytest.mark.parametrize(
    ("input_", "path", "code"),
    [
        ({"preferences": {"timezone": "Mars/Olympus_Mons"}}, "preferences.timezone", "INVALID"),
        ({"preferences": {"timezone": "../../etc/passwd"}}, "preferences.timezone", "INVALID"),
        ({"preferences": {"timezone": ""}}, "preferences.timezone", "INVALID"),
        ({"username": "a b"}, "username", "INVALID"),
        ({"username": "x"}, "username", "INVALID"),
        ({"name": "  "}, "name", "REQUIRED"),
        ({"lastName": "y" * 101}, "lastName", "TOO_LONG"),
    ],
)
async def test_bad_profile_input_names_the_field_and_changes_nothing(
    person: tuple[Joined, httpx.AsyncClient], input_: dict[str, Any], path: str, code: str
) -> None:
    _, http = person
    before = (await post(http, PROFILE))["data"]["me"]
    result = await _update(http, **input_, firstName="Changed")
    assert result["__typename"] == "ValidationError", result
    assert [(i["path"], i["code"]) for i in result["issues"]] == [(path, code)]
    assert (await post(http, PROFILE))["data"]["me"] == before


async def test_a_username_is_unique_in_the_organization(
    people: People, person: tuple[Joined, httpx.AsyncClient], app: FastAPI
) -> None:
    _, http = person
    assert (await _update(http, username="taken-name"))["__typename"] == "UpdateProfilePayload"
    other = await people.join("other")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=other.headers
    ) as second:
        result = await _update(second, username="Taken-Name")
    assert result["__typename"] == "ValidationError"
    assert result["issues"][0]["path"] == "username"
    assert result["issues"][0]["code"] == "DUPLICATE"


async def test_changing_the_password_ends_the_other_logins_only(
    people: People, person: tuple[Joined, httpx.AsyncClient]
) -> None:
    # given: a second login of the same person
    joined, http = person
    other = (await post(people.anonymous, LOGIN, {"email": joined.email, "password": PASSWORD}))[
        "data"
    ]["login"]
    replacement = "another sturdy passphrase 43"

    # when
    result = (await post(http, CHANGE_LOGIN, {"current": PASSWORD, "new": replacement}))["data"][
        "changePassword"
    ]

    # then
    assert result["__typename"] == "ChangePasswordPayload", result
    other_refresh = await post(people.anonymous, REFRESH, {"t": other["refreshToken"]})
    assert other_refresh["data"]["refreshToken"]["__typename"] == "AuthenticationFailed"
    own_refresh = await post(people.anonymous, REFRESH, {"t": joined.refresh_token})
    assert own_refresh["data"]["refreshToken"]["__typename"] == "LoginPayload"
    old = await post(people.anonymous, LOGIN, {"email": joined.email, "password": PASSWORD})
    assert old["data"]["login"]["__typename"] == "AuthenticationFailed"
    new = await post(people.anonymous, LOGIN, {"email": joined.email, "password": replacement})
    assert new["data"]["login"]["__typename"] == "LoginPayload"


@pytest.mark.parametrize(
    ("current", "new", "path"),
    [
        ("not my password at all", "another sturdy passphrase 43", "currentPassword"),
        (PASSWORD, "short", "newPassword"),
        (PASSWORD, PASSWORD, "newPassword"),
        (PASSWORD, "flowgate-demo", "newPassword"),
    ],
)
async def test_a_refused_password_change_names_the_argument_and_keeps_the_password(
    people: People, person: tuple[Joined, httpx.AsyncClient], current: str, new: str, path: str
) -> None:
    joined, http = person
    result = (await post(http, CHANGE_LOGIN, {"current": current, "new": new}))["data"][
        "changePassword"
    ]
    assert result["__typename"] == "ValidationError", result
    assert path in {issue["path"] for issue in result["issues"]}
    still = await post(people.anonymous, LOGIN, {"email": joined.email, "password": PASSWORD})
    assert still["data"]["login"]["__typename"] == "LoginPayload"


async def test_an_api_key_cannot_change_a_password(app: FastAPI, services: Services) -> None:
    async with client_as(app, services, USER) as member:
        body = await member.post(CHANGE_LOGIN, {"current": "x" * 12, "new": "y" * 12})
    assert body["data"]["changePassword"]["__typename"] == "Forbidden"
