"""Apollo Client (npm `@apollo/client` with `graphql-ws`, run by Node) against the session's
gateway on a real port: a query with variables and fragments, the lifecycle mutations, and
an `executionProgress` subscription whose socket drops mid-run and that resumes with its
cursor (`tests/clients/apollo.mjs`). What it received is compared with the event log."""

from __future__ import annotations

from tests.clients_setup import run_node
from tests.scratch import Scratch
from tests.test_execution_lifecycle import events_of


async def test_apollo_queries_mutates_and_resumes_a_subscription_without_loss(
    scratch: Scratch, live_server: str, admin_key: str
) -> None:
    # given: an agent of the admin's organization
    agent_id = await scratch.create_agent("apollo")

    # when: Apollo runs it, following its progress across a dropped socket
    seen = await run_node(
        "apollo.mjs",
        {
            "FLOWGATE_URL": f"http://{live_server}",
            "FLOWGATE_TOKEN": admin_key,
            "AGENT_ID": agent_id,
        },
    )

    # then: the query's fragments were filled in
    assert seen["agent"]["id"] == agent_id
    assert seen["agent"]["name"] == scratch.name("apollo")
    assert seen["agent"]["owner"]["email"] == "admin@acme.example"
    assert seen["agent"]["executions"] == {
        "totalCount": 0,
        "edges": [],
        "__typename": "ExecutionConnection",
    }
    # the mutations went through
    assert seen["started"]["__typename"] == "StartExecutionPayload"
    assert seen["finished"]["execution"]["status"] == "SUCCEEDED"
    # the first socket really dropped mid-run, and steps happened while it was away
    assert "error" in seen["dropped"], seen["dropped"]
    before = [event["seq"] for event in seen["beforeDrop"]]
    after = [event["seq"] for event in seen["afterResume"]]
    assert set(seen["whileAway"]) <= set(after)
    # the resumed subscription completed at the end of the run
    assert seen["resumeEnded"] == {"complete": True}
    # every stored event arrived exactly once, in order, across the two connections
    stored = await events_of(seen["started"]["execution"]["id"])
    assert before + after == [event.seq for event in stored]
    assert [e["type"] for e in seen["beforeDrop"] + seen["afterResume"]] == [
        event.type.value.upper() for event in stored
    ]
