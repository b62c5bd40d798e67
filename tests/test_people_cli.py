"""`flowgate user create`: the first step of a production install, run as an operator runs
it, in a process of its own, with the password on stdin (never in the arguments)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select

from flowgate.services import Services
from flowgate.settings import Settings
from models.sql import Organization, User
from tests.people import PASSWORD, post

FLOWGATE = Path(sys.executable).with_name("flowgate")
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename ... on LoginPayload { user { role organization { name slug } } }
  }
}
"""


async def user_create(
    tmp_path: Path, settings: Settings, stdin: str, *args: str
) -> tuple[int, str, str]:
    assert settings.database_url is not None and settings.mongodb_url is not None
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    environment.update(
        FLOWGATE_DATABASE_URL=settings.database_url,
        FLOWGATE_MONGODB_URL=settings.mongodb_url,
        FLOWGATE_MONGODB_DATABASE=settings.mongodb_database,
        FLOWGATE_DATA_DIR=str(tmp_path / "data"),
    )
    process = await asyncio.create_subprocess_exec(
        FLOWGATE, "user", "create", *args,
        env=environment, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.fixture
async def organization_name(services: Services) -> AsyncIterator[str]:
    """A new organization's name; the organization, with its people, is removed after."""
    name = f"Cli Test {os.getpid()}"
    yield name
    async with services.postgres.session() as session, session.begin():
        await session.execute(delete(Organization).where(Organization.name == name))


async def test_the_first_admin_of_a_new_organization_logs_in(
    tmp_path: Path,
    settings: Settings,
    services: Services,
    anonymous: httpx.AsyncClient,
    organization_name: str,
) -> None:
    # given
    email = f"first.admin.{os.getpid()}@new.example"

    # when
    code, stdout, stderr = await user_create(
        tmp_path, settings, PASSWORD + "\n",
        "--email", email, "--name", "First Admin", "--organization", organization_name,
    )  # fmt: skip

    # then: created, with the organization, and can log in as its admin
    assert code == 0, stderr
    assert "new organization" in stdout
    body = await post(anonymous, LOGIN, {"email": email, "password": PASSWORD})
    login = body["data"]["login"]
    assert login["__typename"] == "LoginPayload", body
    assert login["user"]["role"] == "ADMIN"
    assert login["user"]["organization"]["name"] == organization_name

    # and a second person joins the same organization, not a new one
    code, stdout, _ = await user_create(
        tmp_path, settings, PASSWORD + "\n",
        "--email", f"second.{os.getpid()}@new.example", "--name", "Second",
        "--organization", organization_name, "--role", "viewer",
    )  # fmt: skip
    assert code == 0 and "new organization" not in stdout
    async with services.postgres.session() as session:
        organizations = (
            await session.scalars(
                select(Organization).where(Organization.name == organization_name)
            )
        ).all()
    assert len(organizations) == 1


@pytest.mark.parametrize(
    ("password", "words"),
    [("short", "--password: must be at least 12"), ("flowgate-demo", "--password: is a published")],
)
async def test_a_weak_password_is_one_line_and_creates_nothing(
    tmp_path: Path,
    settings: Settings,
    services: Services,
    organization_name: str,
    password: str,
    words: str,
) -> None:
    email = f"weak.{os.getpid()}@new.example"
    code, _, stderr = await user_create(
        tmp_path, settings, password + "\n",
        "--email", email, "--name", "Weak", "--organization", organization_name,
    )  # fmt: skip
    assert code == 1
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and words in stderr, stderr
    async with services.postgres.session() as session:
        assert await session.scalar(select(User).where(User.email == email)) is None
        found = await session.scalar(
            select(Organization).where(Organization.name == organization_name)
        )
        assert found is None
