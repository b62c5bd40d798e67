"""Webhooks: a workflow's URL and secret (never read back), deliveries queued with the
change that causes them, POSTed signed to a real local HTTP server by the deliverer, retried
with backoff while the receiver is down, each attempt logged, each event delivered once."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from flowgate import webhooks as signing
from flowgate.services import Services
from models.sql import AuditLogEntry, WebhookDelivery
from resolvers.ids import from_global_id
from resolvers.notifications import deliverer
from tests.notifications import SET_WEBHOOK, Receiver, Team

SECRET = "s3cret-for-tests-0123456789"  # noqa: S105 - a test receiver's key
WEBHOOK = "query($w: ID!) { workflow(id: $w) { webhook { url secretHint } } }"
DELIVERIES = """
query($w: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(workflowId: $w, status: $status, first: 50) {
    totalCount
    edges { node {
      id event body status attempts lastStatusCode lastError deliveredAt nextAttemptAt
      log { attempt url statusCode error durationMs }
    } }
  }
}
"""
REMOVE = """
mutation($w: ID!) { removeWorkflowWebhook(workflowId: $w) {
  __typename ... on RemoveWorkflowWebhookPayload { removed } ... on Error { code } } }
"""


def fast(services: Services, **settings: Any) -> Services:
    """The services with quick retries: what a replica's deliverer runs with here."""
    update = {"webhook_backoff": 0.05, "webhook_timeout": 2.0, **settings}
    return dataclasses.replace(services, settings=services.settings.model_copy(update=update))


async def _hooked_workflow(team: Team, url: str, label: str = "hooked") -> str:
    workflow_id = await team.workflow(label, owners=("user",), channels=("webhook", "slack"))
    result = await team.members["user"].post(
        SET_WEBHOOK, {"w": workflow_id, "url": url, "secret": SECRET}
    )
    assert result["data"]["setWorkflowWebhook"]["__typename"] == "SetWorkflowWebhookPayload"
    return workflow_id


async def _deliveries(services: Services, workflow_id: str) -> list[WebhookDelivery]:
    async with services.postgres.session() as session:
        rows = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.workflow_id == from_global_id(workflow_id)[1])
            .order_by(WebhookDelivery.created_at)
        )
        return list(rows.all())


async def _pass(services: Services) -> dict[uuid.UUID, str]:
    async with deliverer.client(services.settings) as http:
        return await deliverer.deliver_due(services, http)


async def _until_settled(services: Services, workflow_id: str, replicas: int = 1) -> None:
    """Run `replicas` deliverers side by side until no delivery of the workflow is pending."""

    async def replica() -> None:
        async with deliverer.client(services.settings) as http:
            while any(d.status == "pending" for d in await _deliveries(services, workflow_id)):
                await deliverer.deliver_due(services, http)
                await asyncio.sleep(0.02)

    await asyncio.wait_for(asyncio.gather(*(replica() for _ in range(replicas))), 30)


async def test_the_secret_is_never_read_back(team: Team, services: Services) -> None:
    workflow_id = await team.workflow("secret", owners=("user",))
    user = team.members["user"]
    # when: set with a secret of one's own
    given = await user.post(SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/h",
                                          "secret": SECRET})  # fmt: skip
    # then: only its end is shown, now and later
    payload = given["data"]["setWorkflowWebhook"]
    assert payload["secret"] is None
    assert payload["webhook"] == {"url": "https://example.com/h", "secretHint": "…6789"}
    read = await user.post(WEBHOOK, {"w": workflow_id})
    assert read["data"]["workflow"]["webhook"] == payload["webhook"]
    # when: set without a secret, one is made and shown this once
    made = (await user.post(SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/h2"}))[
        "data"
    ]["setWorkflowWebhook"]
    assert len(made["secret"]) >= 32
    assert made["webhook"]["secretHint"] == "…" + made["secret"][-4:]
    # the audit log names the change, never the secret
    async with services.postgres.session() as session:
        summaries = (
            await session.scalars(
                select(AuditLogEntry.summary).where(
                    AuditLogEntry.object_id == str(from_global_id(workflow_id)[1]),
                    AuditLogEntry.action == "workflow.webhook_set",
                )
            )
        ).all()
    assert len(summaries) == 2
    assert not any(SECRET in orjson.dumps(s).decode() or made["secret"] in orjson.dumps(s).decode()
                   for s in summaries)  # fmt: skip


@pytest.mark.parametrize(
    ("url", "secret", "path"),
    [
        ("", SECRET, "url"),
        ("   ", SECRET, "url"),
        ("example.com/hook", SECRET, "url"),
        ("ftp://example.com/hook", SECRET, "url"),
        ("javascript:alert(1)", SECRET, "url"),
        ("https://user:pw@example.com/hook", SECRET, "url"),
        ("https://example.com:99999/hook", SECRET, "url"),
        ("https://exa mple.com/hook", SECRET, "url"),
        ("https://example.com/" + "x" * 2000, SECRET, "url"),
        ("https://example.com/hook", "short", "secret"),
        ("https://example.com/hook", "", "secret"),
        ("https://example.com/hook", " padded-secret-0123456789 ", "secret"),
        ("https://example.com/hook", "line\nbreak-0123456789", "secret"),
        ("https://example.com/hook", "x" * 201, "secret"),
        ("https://example.com/hook", "nul\x00-0123456789abcdef", "secret"),
    ],
)
async def test_bad_url_or_secret_is_a_validation_error_and_writes_nothing(
    team: Team, url: str, secret: str, path: str
) -> None:
    workflow_id = await team.workflow("bad", owners=("user",))
    user = team.members["user"]
    await user.post(SET_WEBHOOK, {"w": workflow_id, "url": "https://example.com/ok",
                                  "secret": SECRET})  # fmt: skip
    # when
    body = await user.post(SET_WEBHOOK, {"w": workflow_id, "url": url, "secret": secret})
    # then
    result = body["data"]["setWorkflowWebhook"]
    assert result["__typename"] == "ValidationError", result
    assert [issue["path"] for issue in result["issues"]] == [path]
    read = await user.post(WEBHOOK, {"w": workflow_id})
    assert read["data"]["workflow"]["webhook"]["url"] == "https://example.com/ok"


async def test_a_malformed_workflow_id_is_a_validation_error(team: Team) -> None:
    body = await team.members["user"].post(
        SET_WEBHOOK, {"w": "nonsense", "url": "https://example.com/h", "secret": SECRET}
    )
    result = body["data"]["setWorkflowWebhook"]
    assert result["__typename"] == "ValidationError"
    assert [issue["path"] for issue in result["issues"]] == ["workflowId"]


async def test_a_failed_run_is_posted_signed_once(
    team: Team, services: Services, receiver: Receiver
) -> None:
    workflow_id = await _hooked_workflow(team, receiver.url)
    # when
    execution_id = await team.run(workflow_id, "FAILED")
    # then: queued with the change, before any deliverer ran
    (queued,) = await _deliveries(services, workflow_id)
    assert queued.status == "pending" and queued.attempts == 0
    # when: a deliverer pass
    statuses = await _pass(fast(services))
    # then: one signed POST the receiver can verify and dedupe
    assert statuses[queued.id] == "delivered"
    (got,) = receiver.received
    headers = got.headers
    assert signing.verify(
        SECRET, headers["flowgate-timestamp"], got.body, headers["flowgate-signature"]
    )
    assert not signing.verify("another-secret-0123456789", headers["flowgate-timestamp"],
                              got.body, headers["flowgate-signature"])  # fmt: skip
    assert headers["flowgate-delivery"] == str(queued.id)
    assert headers["flowgate-event"] == "execution.failed"
    body = orjson.loads(got.body)
    assert body["id"] == str(queued.id) and body["type"] == "execution.failed"
    assert body["data"]["executionId"] == execution_id
    assert body["data"]["workflowId"] == workflow_id
    assert body["data"]["error"] == "the model refused"
    # and the log says so, to those who may change the workflow
    read = await team.members["user"].post(DELIVERIES, {"w": workflow_id})
    (delivery,) = [e["node"] for e in read["data"]["webhookDeliveries"]["edges"]]
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200 and delivery["deliveredAt"] is not None
    assert delivery["nextAttemptAt"] is None
    assert [(a["attempt"], a["statusCode"], a["error"]) for a in delivery["log"]] == [
        (1, 200, None)
    ]
    # a second pass sends nothing
    await _pass(fast(services))
    assert len(receiver.received) == 1


async def test_successes_and_approvals_are_posted_too_when_asked(
    team: Team, services: Services, receiver: Receiver
) -> None:
    workflow_id = await team.workflow("both", owners=("user",), on_success=True,
                                      channels=("webhook",))  # fmt: skip
    await team.members["user"].post(SET_WEBHOOK, {"w": workflow_id, "url": receiver.url,
                                                  "secret": SECRET})  # fmt: skip
    await team.run(workflow_id, "SUCCEEDED")
    execution_id = await team.start(workflow_id)
    await team.request_approval(execution_id, [team.members["user"].principal.user_id])
    await _until_settled(fast(services), workflow_id)
    events = sorted(r.headers["flowgate-event"] for r in receiver.received)
    assert events == ["approval.requested", "execution.succeeded"]


async def test_without_the_channel_nothing_is_queued(
    team: Team, services: Services, receiver: Receiver
) -> None:
    workflow_id = await team.workflow("no-channel", owners=("user",), channels=("slack",))
    await team.members["user"].post(SET_WEBHOOK, {"w": workflow_id, "url": receiver.url,
                                                  "secret": SECRET})  # fmt: skip
    await team.run(workflow_id, "FAILED")
    assert await _deliveries(services, workflow_id) == []


async def test_receiver_down_then_up_each_event_arrives_exactly_once(
    team: Team, services: Services
) -> None:
    # given: a receiver that is not listening yet, and three failed runs
    receiver = Receiver()
    workflow_id = await _hooked_workflow(team, receiver.url, "down")
    for _ in range(3):
        await team.run(workflow_id, "FAILED")
    quick = fast(services)
    # when: a pass while it is down
    await _pass(quick)
    # then: every attempt is logged with its error, and retried later
    for delivery in await _deliveries(services, workflow_id):
        assert delivery.status == "pending" and delivery.attempts == 1
        assert delivery.last_status_code is None and delivery.last_error
    # when: it comes up answering 503, then 200, with two replicas delivering side by side
    await receiver.start()
    try:
        receiver.answer = 503
        await asyncio.sleep(0.2)  # past the backoff
        await _pass(quick)
        receiver.answer = 200
        await _until_settled(quick, workflow_id, replicas=2)
    finally:
        await receiver.stop()
    # then: each event was answered 2xx exactly once, under its own id
    deliveries = await _deliveries(services, workflow_id)
    accepted = [r.headers["flowgate-delivery"] for r in receiver.received if r.answered == 200]
    assert sorted(accepted) == sorted(str(d.id) for d in deliveries)
    refused = [r for r in receiver.received if r.answered == 503]
    assert refused  # the 503 pass reached it
    read = await team.members["user"].post(DELIVERIES, {"w": workflow_id})
    for edge in read["data"]["webhookDeliveries"]["edges"]:
        node = edge["node"]
        assert node["status"] == "DELIVERED"
        log = node["log"]
        assert [a["attempt"] for a in log] == list(range(1, node["attempts"] + 1))
        assert log[0]["statusCode"] is None and log[0]["error"]
        assert log[-1]["statusCode"] == 200
        assert all(a["url"] == receiver.url for a in log)
        # the body is the same on every attempt: the receiver can dedupe on its id
        assert node["body"]["id"] == str(from_global_id(node["id"])[1])


async def test_a_delivery_gives_up_after_its_attempts(
    team: Team, services: Services, receiver: Receiver
) -> None:
    receiver.answer = 500
    workflow_id = await _hooked_workflow(team, receiver.url, "gives-up")
    await team.run(workflow_id, "FAILED")
    # when
    await _until_settled(fast(services, webhook_max_attempts=3), workflow_id)
    # then
    (delivery,) = await _deliveries(services, workflow_id)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_status_code == 500 and delivery.last_error == "busy"
    assert len(receiver.received) == 3
    failed = await team.members["user"].post(DELIVERIES, {"w": workflow_id, "status": "FAILED"})
    assert failed["data"]["webhookDeliveries"]["totalCount"] == 1


async def test_removing_the_webhook_gives_up_what_is_pending(
    team: Team, services: Services, receiver: Receiver
) -> None:
    workflow_id = await _hooked_workflow(team, receiver.url, "removed")
    await team.run(workflow_id, "FAILED")
    user = team.members["user"]
    # when
    removed = await user.post(REMOVE, {"w": workflow_id})
    await _pass(fast(services))
    # then
    assert removed["data"]["removeWorkflowWebhook"] == {
        "__typename": "RemoveWorkflowWebhookPayload", "removed": True,
    }  # fmt: skip
    (delivery,) = await _deliveries(services, workflow_id)
    assert delivery.status == "failed" and "removed" in (delivery.last_error or "")
    assert receiver.received == []
    again = await user.post(REMOVE, {"w": workflow_id})
    assert again["data"]["removeWorkflowWebhook"]["removed"] is False
    assert (await user.post(WEBHOOK, {"w": workflow_id}))["data"]["workflow"]["webhook"] is None


def test_backoff_doubles_with_jitter_up_to_its_cap(services: Services) -> None:
    settings = services.settings.model_copy(
        update={"webhook_backoff": 1.0, "webhook_backoff_max": 10.0}
    )
    for attempt, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        delay = deliverer.backoff(settings, attempt)
        assert nominal <= delay <= nominal * 1.2
