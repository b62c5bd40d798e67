"""The demo engine answers chats through the API, as an external engine would: a reply that
streams in with a tool call on the way, and a stopped reply left as the user stopped it."""

from __future__ import annotations

import asyncio

import httpx

from flowgate.simulator.chat import ChatSimulator, reply_text
from tests.conversations import STOP, run, start_chat
from tests.scratch import Scratch, gql

READ = """
query($id: ID!) {
  conversation(id: $id) {
    messages(last: 2) { edges { node { role content status model
                                       toolCalls { toolName status } } } }
  }
}
"""


async def test_the_simulator_answers_waiting_chats(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    # given: a conversation waiting for the agent
    conversation, _ = await start_chat(client, await chats.create_agent(), "Is all well?")
    simulator = ChatSimulator(client, chunk_delay=0, seed=1)

    # when
    answered = await simulator.answer_pending()
    again = await simulator.answer_pending()  # nothing waits any more

    # then
    assert (answered, again, simulator.answered) == (1, 0, 1)
    question, reply = (
        edge["node"]
        for edge in (await gql(client, READ, {"id": conversation}))["conversation"]["messages"][
            "edges"
        ]
    )
    assert question["content"] == "Is all well?"
    assert reply["content"].strip() == reply_text("Is all well?")
    assert (reply["role"], reply["status"], reply["model"]) == ("AGENT", "COMPLETE", "sim-1")
    assert reply["toolCalls"] == [{"toolName": "search", "status": "SUCCEEDED"}]


async def test_a_reply_stopped_mid_stream_is_left_as_the_user_stopped_it(
    chats: Scratch, client: httpx.AsyncClient
) -> None:
    # given: the engine streaming a reply, slowly
    conversation, question = await start_chat(client, await chats.create_agent(), "Long one")
    simulator = ChatSimulator(client, chunk_delay=0.2)
    answering = asyncio.create_task(
        simulator.answer(conversation, {"id": question, "content": "Long one"})
    )

    # when: the user stops it once it has begun
    reply = None
    while reply is None:
        await asyncio.sleep(0.05)
        edges = (await gql(client, READ, {"id": conversation}))["conversation"]["messages"]
        reply = next((e["node"] for e in edges["edges"] if e["node"]["role"] == "AGENT"), None)
    last = await gql(
        client,
        "query($id: ID!) { conversation(id: $id) { lastMessage { id } } }",
        {"id": conversation},
    )
    stopped = await run(client, STOP, id=last["conversation"]["lastMessage"]["id"])
    await answering

    # then: the engine gave up on it; what was written so far stays, and it never finished
    assert stopped["__typename"] == "MessagePayload"
    final = (await gql(client, READ, {"id": conversation}))["conversation"]["messages"]["edges"]
    node = final[-1]["node"]
    assert node["status"] == "STOPPED"
    assert reply_text("Long one").startswith(node["content"].rstrip()) or node["content"] == ""
    assert len(node["content"]) < len(reply_text("Long one"))
    assert simulator.answered == 0
