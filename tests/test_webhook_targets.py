"""Webhooks cannot reach the gateway's own network (unless FLOWGATE_WEBHOOK_ALLOW_PRIVATE):
a URL naming a private address is refused when it is set, and one whose host resolves to a
private address is refused at delivery, logged, and given up without a retry. The suite runs
with the setting on (its receiver is on 127.0.0.1); these tests turn it off."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator

import httpx
import pytest
import trustme
from fastapi import FastAPI

from flowgate import webhook_targets
from flowgate.services import Services
from resolvers.notifications import deliverer
from tests.notifications import SET_WEBHOOK, Receiver, Team

SECRET = "s3cret-for-tests-0123456789"  # noqa: S105 - a test receiver's key
WEBHOOK = "query($w: ID!) { workflow(id: $w) { webhook { url } } }"
LOG = """
query($w: ID!) { webhookDeliveries(workflowId: $w, first: 10) { edges { node {
  status attempts lastError nextAttemptAt log { attempt statusCode error } } } } }
"""


def _private_off(services: Services) -> Services:
    update = {"webhook_allow_private": False, "webhook_timeout": 2.0}
    return dataclasses.replace(services, settings=services.settings.model_copy(update=update))


@pytest.fixture
def strict_app(app: FastAPI) -> Iterator[FastAPI]:
    """The session's app with the setting off (as deployed by default), for this test."""
    services = app.state.services
    app.state.services = _private_off(services)
    try:
        yield app
    finally:
        app.state.services = services


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address classified, not bound
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("ff02::1", False),
        ("2001:db8::1", False),  # documentation
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.5", False),
        ("::ffff:8.8.8.8", True),  # judged by the IPv4 address it reaches
        ("2002:a00:5::1", False),  # 6to4 of 10.0.0.5
        ("64:ff9b::a00:5", False),  # NAT64 of 10.0.0.5
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ],
)
def test_the_address_classifier(address: str, public: bool) -> None:
    assert webhook_targets.is_public(address) is public


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("example.com", False),
        ("8.8.8.8", False),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("169.254.169.254", True),
    ],
)
def test_literal_refusal(host: str, refused: bool) -> None:
    assert (webhook_targets.literal_refusal(host) is not None) is refused


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "https://LocalHost./hook",
    ],
)
async def test_a_private_url_is_refused_when_set_and_writes_nothing(
    team: Team, strict_app: FastAPI, url: str
) -> None:
    workflow_id = await team.workflow("private", owners=("user",))
    user = team.members["user"]
    # given: a public URL (it is set: the setting does not refuse the internet)
    ok = await user.post(SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/h",
                                       "secret": SECRET})  # fmt: skip
    assert ok["data"]["setWorkflowWebhook"]["__typename"] == "SetWorkflowWebhookPayload"
    # when
    body = await user.post(SET_WEBHOOK, {"w": workflow_id, "url": url, "secret": SECRET})
    # then: a validation error naming `url`, and the webhook is as it was
    result = body["data"]["setWorkflowWebhook"]
    assert result["__typename"] == "ValidationError", result
    assert [(i["path"], i["code"]) for i in result["issues"]] == [("url", "INVALID")]
    assert "must not" in result["issues"][0]["message"]
    read = await user.post(WEBHOOK, {"w": workflow_id})
    assert read["data"]["workflow"]["webhook"]["url"] == "https://example.com/h"


async def test_a_host_resolving_to_loopback_is_refused_at_delivery_never_retried(
    team: Team, services: Services, receiver: Receiver
) -> None:
    # given: a webhook set while private targets were allowed (or whose name resolved to a
    # public address then): `localhost` on the receiver's port
    workflow_id = await team.workflow("rebound", owners=("user",), channels=("webhook",))
    url = f"http://localhost:{receiver.port}/hook"
    user = team.members["user"]
    await user.post(SET_WEBHOOK, {"w": workflow_id, "url": url, "secret": SECRET})
    await team.run(workflow_id, "FAILED")
    strict = _private_off(services)
    # when: a deliverer with the setting off passes, and passes again
    async with deliverer.client(strict.settings) as http:
        first = await deliverer.deliver_due(strict, http)
        again = await deliverer.deliver_due(strict, http)
    # then: refused, given up after one attempt, logged with the address; nothing was sent
    assert list(first.values()) == ["failed"]
    assert again == {}
    assert receiver.received == []
    read = await user.post(LOG, {"w": workflow_id})
    (delivery,) = [e["node"] for e in read["data"]["webhookDeliveries"]["edges"]]
    assert delivery["status"] == "FAILED" and delivery["attempts"] == 1
    assert delivery["nextAttemptAt"] is None
    (attempt,) = delivery["log"]
    assert attempt["statusCode"] is None
    assert attempt["error"] == delivery["lastError"]
    assert attempt["error"] in {
        "refused: localhost resolves to private address 127.0.0.1",
        "refused: localhost resolves to private address ::1",
    }


async def test_an_unresolvable_host_is_retried(team: Team, services: Services) -> None:
    # given: a name that cannot resolve (RFC 6761: `.invalid` never does)
    workflow_id = await team.workflow("nowhere", owners=("user",), channels=("webhook",))
    url = "https://hook.flowgate.invalid/h"
    await team.members["user"].post(SET_WEBHOOK, {"w": workflow_id, "url": url, "secret": SECRET})
    await team.run(workflow_id, "FAILED")
    strict = _private_off(services)
    # when
    async with deliverer.client(strict.settings) as http:
        statuses = await deliverer.deliver_due(strict, http)
    # then: not refused for good: DNS may answer later
    assert list(statuses.values()) == ["pending"]
    read = await team.members["user"].post(LOG, {"w": workflow_id})
    (delivery,) = [e["node"] for e in read["data"]["webhookDeliveries"]["edges"]]
    assert delivery["lastError"].startswith("cannot resolve hook.flowgate.invalid")


async def test_the_post_goes_to_the_checked_address_with_the_original_host(
    receiver: Receiver,
) -> None:
    # given: a URL whose name is not an address the receiver's port answers on by itself
    url = httpx.URL(f"http://hooks.example.com:{receiver.port}/hook")
    # when: aimed at the checked address (here the receiver's), and posted
    target = webhook_targets.aim(url, "127.0.0.1")
    async with httpx.AsyncClient() as http:
        response = await http.post(target.url, content=b"{}", headers=target.headers,
                                   extensions=target.extensions)  # fmt: skip
    # then: it arrived without another resolution, naming the host the user chose
    assert response.status_code == 200
    (got,) = receiver.received
    assert got.headers["host"] == f"hooks.example.com:{receiver.port}"
    # and TLS would name the host too, not the address
    tls = webhook_targets.aim(httpx.URL("https://hooks.example.com/h"), "2606:4700::1")
    assert tls.extensions == {"sni_hostname": "hooks.example.com"}
    assert str(tls.url) == "https://[2606:4700::1]/h"
    assert tls.headers == {"Host": "hooks.example.com"}


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


async def _post_over_tls(authority: trustme.CA, cert_name: str, *, sni: bool) -> httpx.Response:
    """POST to a TLS receiver on 127.0.0.1 whose certificate names `cert_name`, through the
    URL `https://hooks.example.com/...` pinned to 127.0.0.1 (with or without its SNI)."""
    leaf = authority.issue_cert(cert_name)
    with leaf.private_key_and_cert_chain_pem.tempfile() as pem:
        tls_receiver = Receiver(certfile=pem)
        await tls_receiver.start()
    try:
        url = httpx.URL(f"https://hooks.example.com:{tls_receiver.port}/hook")
        target = webhook_targets.aim(url, "127.0.0.1")
        context = ssl.create_default_context()
        authority.configure_trust(context)
        async with httpx.AsyncClient(verify=context) as http:
            return await http.post(target.url, content=b"{}", headers=target.headers,
                                   extensions=target.extensions if sni else {})  # fmt: skip
    finally:
        await tls_receiver.stop()


async def test_tls_to_the_checked_address_verifies_the_urls_host(authority: trustme.CA) -> None:
    # when: the receiver's certificate names the URL's host
    response = await _post_over_tls(authority, "hooks.example.com", sni=True)
    # then: the handshake names the host (SNI) and its certificate is accepted
    assert response.status_code == 200
    # when: the certificate names another host, it is refused: the check is not skipped
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await _post_over_tls(authority, "other.example.com", sni=True)
    # and without the SNI the address would be checked, and no certificate names it
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await _post_over_tls(authority, "hooks.example.com", sni=False)
