"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs where
this suite runs): the file is parsed and held to what production needs. Each check returns
the problems it finds; every check is also run on a deliberately broken copy, to prove it
can fail."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from flowgate.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

GATEWAY = "gateway"
# Each store, the directory its image keeps data in, and the FLOWGATE_* URL that reaches it.
STORES = {
    "postgres": ("/var/lib/postgresql/data", "FLOWGATE_DATABASE_URL", ("postgresql",), 5432),
    "mongo": ("/data/db", "FLOWGATE_MONGODB_URL", ("mongodb",), 27017),
    "redis": ("/data", "FLOWGATE_REDIS_URL", ("redis",), 6379),
    "elasticsearch": (
        "/usr/share/elasticsearch/data",
        "FLOWGATE_ELASTICSEARCH_URL",
        ("http", "https"),
        9200,
    ),
}

Compose = dict[str, Any]
Check = Callable[[Compose], list[str]]


def load_compose() -> Compose:
    compose: Compose = yaml.safe_load(COMPOSE.read_text())
    return compose


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of `K=V`."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def named_volume_targets(compose: Compose, service: dict[str, Any]) -> dict[str, str]:
    """target path -> named volume, for the service's mounts of top-level named volumes."""
    declared = set(compose.get("volumes") or {})
    targets = {}
    for mount in service.get("volumes") or []:
        if isinstance(mount, str):
            source, _, rest = mount.partition(":")
            target = rest.split(":")[0]
        else:
            if mount.get("type", "volume") != "volume":
                continue
            source, target = mount.get("source", ""), mount.get("target", "")
        if source in declared:
            targets[target] = source
    return targets


# --- the checks ----------------------------------------------------------------------------


def check_healthchecks(compose: Compose) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck") or {}
        test = healthcheck.get("test")
        if not test or healthcheck.get("disable") or test in (["NONE"], "NONE"):
            problems.append(f"{name}: no healthcheck")
    return problems


def check_data_volumes(compose: Compose) -> list[str]:
    problems = []
    for name, (data_dir, *_) in STORES.items():
        service = compose["services"].get(name)
        if service is None:
            problems.append(f"{name}: missing service")
        elif data_dir not in named_volume_targets(compose, service):
            problems.append(f"{name}: {data_dir} is not on a named volume")
    return problems


def check_gateway_waits_for_healthy_stores(compose: Compose) -> list[str]:
    depends_on = compose["services"][GATEWAY].get("depends_on") or {}
    if isinstance(depends_on, list):  # the short form cannot wait for health
        depends_on = {store: {} for store in depends_on}
    stores = set(compose["services"]) - {GATEWAY}
    return [
        f"gateway does not wait for {store} to be healthy"
        for store in sorted(stores | set(STORES))
        if (depends_on.get(store) or {}).get("condition") != "service_healthy"
    ]


def check_gateway_urls(compose: Compose) -> list[str]:
    env = environment(compose["services"][GATEWAY])
    problems = []
    for host, (_, variable, schemes, port) in STORES.items():
        if variable not in env:
            problems.append(f"{variable} is not set")
            continue
        url = urlsplit(env[variable])
        if url.scheme not in schemes or url.hostname != host or (url.port or port) != port:
            problems.append(f"{variable}={env[variable]} does not reach {host}:{port}")
    return problems


def check_gateway_configuration(compose: Compose) -> list[str]:
    gateway = compose["services"][GATEWAY]
    env = environment(gateway)
    problems = [
        f"{key} is not a FLOWGATE_* variable" for key in env if not key.startswith("FLOWGATE_")
    ]
    if env.get("FLOWGATE_ENVIRONMENT") != "production":
        problems.append("FLOWGATE_ENVIRONMENT is not production")
    if "/readyz" not in json.dumps((gateway.get("healthcheck") or {}).get("test")):
        problems.append("the gateway's healthcheck does not ask /readyz")
    build = gateway.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    dockerfile = (
        "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile", "Dockerfile")
    )
    if context is None or not (ROOT / context / dockerfile).is_file():
        problems.append("the gateway is not built from the Dockerfile")
    return problems


def check_mongo_replica_set(compose: Compose) -> list[str]:
    mongo = compose["services"]["mongo"]
    problems = []
    command = mongo.get("command") or []
    command = command.split() if isinstance(command, str) else command
    if "--replSet" not in command or command[command.index("--replSet") + 1] != "rs0":
        problems.append("mongo does not run as replica set rs0")
    if "rs.initiate" not in json.dumps((mongo.get("healthcheck") or {}).get("test")):
        problems.append("mongo's healthcheck never initiates the replica set")
    url = urlsplit(environment(compose["services"][GATEWAY]).get("FLOWGATE_MONGODB_URL", ""))
    if parse_qs(url.query).get("replicaSet") != ["rs0"]:
        problems.append("FLOWGATE_MONGODB_URL does not name replicaSet=rs0")
    return problems


CHECKS: list[Check] = [
    check_healthchecks,
    check_data_volumes,
    check_gateway_waits_for_healthy_stores,
    check_gateway_urls,
    check_gateway_configuration,
    check_mongo_replica_set,
]


def dockerfile_problems(text: str) -> list[str]:
    """The image must start the gateway: its last CMD/ENTRYPOINT runs `flowgate serve` (and
    migrates first), listening beyond the container's loopback."""
    commands = re.findall(r"^\s*(?:CMD|ENTRYPOINT)\s+(.+)$", text, re.MULTILINE)
    if not commands:
        return ["no CMD or ENTRYPOINT"]
    last = commands[-1].strip()
    argv = " ".join(json.loads(last)) if last.startswith("[") else last
    problems = []
    if not re.search(r"\bflowgate serve\b", argv):
        problems.append(f"CMD does not run `flowgate serve`: {argv}")
    elif "--host 0.0.0.0" not in argv:
        problems.append("the gateway listens only on the container's loopback")
    migrate = argv.find("flowgate migrate")
    if migrate == -1 or migrate > argv.find("flowgate serve"):
        problems.append("CMD does not migrate before serving")
    if not re.search(r"^FROM python:3\.12-slim\b", text, re.MULTILINE):
        problems.append("not built on python:3.12-slim")
    if "uv sync --frozen --no-dev" not in text:
        problems.append("dependencies are not installed from the lock file")
    return problems


# --- the real files pass -------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_compose_file_passes(check: Check) -> None:
    assert check(load_compose()) == []


def test_the_dockerfile_exists_and_starts_the_gateway() -> None:
    assert DOCKERFILE.is_file()
    assert dockerfile_problems(DOCKERFILE.read_text()) == []


def test_the_gateway_environment_is_valid_flowgate_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given: exactly the gateway's environment, and no `.env`
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("FLOWGATE_")]:
        monkeypatch.delenv(key)
    secret = "0123456789abcdef" * 4  # what `openssl rand -hex 32` gives the operator
    for key, value in environment(load_compose()["services"][GATEWAY]).items():
        monkeypatch.setenv(key, interpolate(value, {"FLOWGATE_AUTH_SECRET": secret}))

    # when
    settings = load_settings()

    # then
    assert settings.is_production
    assert settings.sqlalchemy_url.host == "postgres"
    assert settings.signing_secret == secret


def test_the_gateway_cannot_start_without_a_signing_secret() -> None:
    # given: the operator's environment lacks FLOWGATE_AUTH_SECRET
    value = environment(load_compose()["services"][GATEWAY])["FLOWGATE_AUTH_SECRET"]

    # then: compose refuses to interpolate it (`${NAME:?message}`)
    with pytest.raises(ValueError, match="set FLOWGATE_AUTH_SECRET"):
        interpolate(value, {})


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}` and `${NAME:?message}` (required) forms."""

    def replace(match: re.Match[str]) -> str:
        name, required = match["name"], match["required"]
        if name in variables:
            return variables[name]
        if required is not None:
            raise ValueError(required)
        return ""

    return re.sub(r"\$\{(?P<name>\w+)(?::\?(?P<required>[^}]*))?\}", replace, value)


# --- every check can fail ------------------------------------------------------------------


def _drop_healthcheck(compose: Compose) -> None:
    del compose["services"]["redis"]["healthcheck"]


def _bind_mount_data(compose: Compose) -> None:
    compose["services"]["mongo"]["volumes"] = ["./mongo:/data/db"]


def _wait_only_for_start(compose: Compose) -> None:
    compose["services"][GATEWAY]["depends_on"]["elasticsearch"]["condition"] = "service_started"


def _wrong_host(compose: Compose) -> None:
    compose["services"][GATEWAY]["environment"]["FLOWGATE_REDIS_URL"] = "redis://localhost:6379/0"


def _development(compose: Compose) -> None:
    compose["services"][GATEWAY]["environment"]["FLOWGATE_ENVIRONMENT"] = "development"


def _no_replica_set(compose: Compose) -> None:
    compose["services"]["mongo"]["command"] = ["--bind_ip_all"]


BREAKAGES = [
    (_drop_healthcheck, check_healthchecks),
    (_bind_mount_data, check_data_volumes),
    (_wait_only_for_start, check_gateway_waits_for_healthy_stores),
    (_wrong_host, check_gateway_urls),
    (_development, check_gateway_configuration),
    (_no_replica_set, check_mongo_replica_set),
]


@pytest.mark.parametrize(("breakage", "check"), BREAKAGES, ids=lambda f: f.__name__)
def test_each_check_catches_its_breakage(breakage: Callable[[Compose], None], check: Check) -> None:
    # given
    compose = copy.deepcopy(load_compose())
    breakage(compose)

    # when / then
    assert check(compose) != []


@pytest.mark.parametrize(
    "cmd",
    [
        'CMD ["flowgate", "serve", "--host", "0.0.0.0"]',
        'CMD ["sh", "-c", "flowgate migrate && exec flowgate serve"]',
        'CMD ["uvicorn", "flowgate.app:create_app"]',
    ],
)
def test_the_dockerfile_check_catches_a_wrong_command(cmd: str) -> None:
    # given
    text = re.sub(r"^CMD .*$", cmd, DOCKERFILE.read_text(), flags=re.MULTILINE)

    # then
    assert dockerfile_problems(text) != []
