"""The Python `gql` client against the session's gateway on a real port: over HTTP (httpx),
and over websockets with each protocol gql speaks (graphql-transport-ws, and the legacy
graphql-ws it calls Apollo's), following an execution's progress to its end. Plus the frame
type browsers and Node need: every websocket message is a text frame."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.scratch import Scratch
from tests.test_execution_lifecycle import events_of

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]

AGENT = gql("""
query Agent($id: ID!) { agent(id: $id) { ...Card } }
fragment Card on Agent { id name owner { email } }
""")

UNKNOWN_FIELD = gql("{ agents { nope } }")

START = gql("""
mutation Start($agentId: ID!) {
  startExecution(agentId: $agentId) {
    ... on StartExecutionPayload { execution { id status } }
  }
}
""")

STEP = gql("""
mutation Step($id: ID!, $nodeId: String!, $status: StepStatus!) {
  reportExecutionStep(
    executionId: $id, step: {nodeId: $nodeId, status: $status, nodeType: ACTION}
  ) { ... on ReportExecutionStepPayload { eventSeq } }
}
""")

FINISH = gql("""
mutation Finish($id: ID!) {
  finishExecution(executionId: $id, status: SUCCEEDED) {
    ... on FinishExecutionPayload { execution { status } }
  }
}
""")

PROGRESS = gql("""
subscription Progress($id: ID!) {
  executionProgress(executionId: $id) { ... on ExecutionEvent { seq type status } }
}
""")


def _http(live_server: str, admin_key: str) -> Client:
    transport = HTTPXAsyncTransport(
        url=f"http://{live_server}/graphql", headers={"Authorization": f"Bearer {admin_key}"}
    )
    return Client(transport=transport, fetch_schema_from_transport=True)


def _websocket(live_server: str, admin_key: str, protocol: str) -> Client:
    transport = WebsocketsTransport(
        url=f"ws://{live_server}/graphql",
        init_payload={"Authorization": f"Bearer {admin_key}"},
        subprotocols=[protocol],
    )
    return Client(transport=transport)


async def test_gql_over_http_queries_mutates_and_validates_against_the_schema(
    scratch: Scratch, live_server: str, admin_key: str
) -> None:
    # given
    agent_id = await scratch.create_agent("gql-http")

    # when: gql fetches the schema by introspection, then queries and mutates
    async with _http(live_server, admin_key) as session:
        agent = await session.execute(GraphQLRequest(AGENT, variable_values={"id": agent_id}))
        started = await session.execute(
            GraphQLRequest(START, variable_values={"agentId": agent_id})
        )
        # a document the schema refuses is refused by gql itself, before it is sent
        with pytest.raises(Exception, match="Cannot query field 'nope' on type 'AgentConnection'"):
            await session.execute(UNKNOWN_FIELD)

    # then
    assert agent["agent"] == {
        "id": agent_id,
        "name": scratch.name("gql-http"),
        "owner": {"email": "admin@acme.example"},
    }
    assert started["startExecution"]["execution"]["status"] == "PENDING"


async def test_gql_over_http_reports_graphql_errors(live_server: str, admin_key: str) -> None:
    # when: a well-formed query for an id that is not an agent's
    async with Client(
        transport=HTTPXAsyncTransport(
            url=f"http://{live_server}/graphql",
            headers={"Authorization": f"Bearer {admin_key}"},
        )
    ) as session:
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(GraphQLRequest(AGENT, variable_values={"id": "not-an-id"}))

    # then: gql raises with the server's error, which names the argument
    assert raised.value.errors is not None
    assert "id" in json.dumps(raised.value.errors[0])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_over_websockets_follows_an_execution_to_its_end(
    scratch: Scratch, live_server: str, admin_key: str, protocol: str
) -> None:
    # given: a run in progress
    agent_id = await scratch.create_agent(f"gql-{protocol}")
    async with _http(live_server, admin_key) as http:
        started = await http.execute(GraphQLRequest(START, variable_values={"agentId": agent_id}))
        execution_id = started["startExecution"]["execution"]["id"]

        # when: gql subscribes while the engine reports steps and finishes
        received: list[dict[str, Any]] = []

        async def follow() -> None:
            async with _websocket(live_server, admin_key, protocol) as ws:
                async for result in ws.subscribe(
                    GraphQLRequest(PROGRESS, variable_values={"id": execution_id})
                ):
                    received.append(result["executionProgress"])

        following = asyncio.create_task(follow())
        for node_id in ("a", "b"):
            for status in ("STARTED", "SUCCEEDED"):
                await http.execute(
                    GraphQLRequest(
                        STEP,
                        variable_values={"id": execution_id, "nodeId": node_id, "status": status},
                    )
                )
        await http.execute(GraphQLRequest(FINISH, variable_values={"id": execution_id}))
        await asyncio.wait_for(following, 15)  # the stream completes by itself

    # then: every stored event, once, in order, ending with the final status
    stored = await events_of(execution_id)
    assert [event["seq"] for event in received] == [event.seq for event in stored]
    assert received[-1] == {"seq": stored[-1].seq, "type": "STATUS_CHANGED", "status": "succeeded"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websocket_messages_are_text_frames(
    live_server: str, admin_key: str, protocol: str
) -> None:
    # when: a client says hello
    async with websockets.connect(f"ws://{live_server}/graphql", subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {admin_key}"}}
        await ws.send(json.dumps(init))
        answer = await asyncio.wait_for(ws.recv(), 5)

    # then: a text frame (graphql-ws in browsers and Node cannot read binary ones)
    assert isinstance(answer, str)
    assert json.loads(answer)["type"] == "connection_ack"
