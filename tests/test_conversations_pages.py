"""Pages of `Conversation.messages`, forwards (`first`/`after`) and backwards (`last`/`before`):
walking them gives the whole list once, in order; `totalCount` is the whole list's size on
every page, whatever the cursor (also past the end, and for each conversation of a batch);
a cursor costs no extra round trip."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conversations import POST, run, start_chat
from tests.scratch import Scratch, gql

FORWARD = """
query Page($id: ID!, $n: Int!, $after: String) {
  conversation(id: $id) { messages(first: $n, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { content } } } }
}
"""
BACKWARD = """
query Page($id: ID!, $n: Int!, $before: String) {
  conversation(id: $id) { messages(last: $n, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor }
    edges { node { content } } } }
}
"""
# One cursor for the messages of several conversations: a message cursor is a position.
BATCH = """
query Batch($agent: ID!, $after: String) {
  conversations(first: 10, filter: {agentId: $agent}) { edges { node { title
    messages(first: 2, after: $after) { totalCount edges { node { content } } } } } }
}
"""


async def _chat(client: httpx.AsyncClient, agent: str, size: int, title: str) -> str:
    """A conversation of `size` messages: m1, m2, ..."""
    conversation, _ = await start_chat(client, agent, "m1", title=title)
    for index in range(2, size + 1):
        await run(client, POST, id=conversation, content=f"m{index}")
    return conversation


def _contents(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["content"] for edge in page["edges"]]


async def _walk(
    client: httpx.AsyncClient, query: str, conversation: str, cursor: str, end: str
) -> list[dict[str, Any]]:
    """Every page of 3 until one says there is no more."""
    pages: list[dict[str, Any]] = []
    position: str | None = None
    more = "hasNextPage" if cursor == "after" else "hasPreviousPage"
    while not pages or pages[-1]["pageInfo"][more]:
        variables = {"id": conversation, "n": 3, cursor: position}
        pages.append((await gql(client, query, variables))["conversation"]["messages"])
        position = pages[-1]["pageInfo"][end]
    return pages


async def test_every_page_counts_the_whole_list_forwards_and_backwards(
    scratch: Scratch, client: httpx.AsyncClient
) -> None:
    # given: a conversation of seven messages
    conversation = await _chat(client, await scratch.create_agent(), 7, "seven")

    # when: walking its pages of three both ways
    forward = await _walk(client, FORWARD, conversation, "after", "endCursor")
    backward = await _walk(client, BACKWARD, conversation, "before", "startCursor")

    # then: the pages are the list once, in order, and each counts all seven
    assert [_contents(page) for page in forward] == [
        ["m1", "m2", "m3"],
        ["m4", "m5", "m6"],
        ["m7"],
    ]
    assert [_contents(page) for page in backward] == [
        ["m5", "m6", "m7"],
        ["m2", "m3", "m4"],
        ["m1"],
    ]
    assert [page["totalCount"] for page in forward + backward] == [7] * 6
    assert [page["pageInfo"]["hasPreviousPage"] for page in forward] == [False, True, True]
    assert [page["pageInfo"]["hasNextPage"] for page in backward] == [False, True, True]


async def test_a_cursor_past_the_end_still_counts_the_whole_list(
    scratch: Scratch, client: httpx.AsyncClient
) -> None:
    # given: the cursor of a conversation's last message
    conversation = await _chat(client, await scratch.create_agent(), 4, "four")
    everything = await gql(client, FORWARD, {"id": conversation, "n": 4})
    last = everything["conversation"]["messages"]["pageInfo"]["endCursor"]

    # when: the page after it
    after_the_end = await gql(client, FORWARD, {"id": conversation, "n": 2, "after": last})

    # then: nothing on it, and still four in all
    page = after_the_end["conversation"]["messages"]
    assert (_contents(page), page["totalCount"]) == ([], 4)
    assert page["pageInfo"]["hasNextPage"] is False


async def test_a_batch_with_a_cursor_counts_each_conversation_in_one_round_trip(
    scratch: Scratch, client: httpx.AsyncClient
) -> None:
    # given: conversations of five and two messages, and the cursor of a second message
    agent = await scratch.create_agent()
    five = await _chat(client, agent, 5, "five")
    await _chat(client, agent, 2, "two")
    second = (await gql(client, FORWARD, {"id": five, "n": 2}))["conversation"]["messages"]
    cursor = second["pageInfo"]["endCursor"]

    # when: the messages after it in each, with and without the cursor
    trips = []
    pages = []
    for after in (None, cursor):
        response = await client.post(
            "/graphql", json={"query": BATCH, "variables": {"agent": agent, "after": after}}
        )
        body = response.json()
        assert "errors" not in body, body
        trips.append(body["extensions"]["roundTrips"])
        edges = body["data"]["conversations"]["edges"]
        pages.append({e["node"]["title"]: e["node"]["messages"] for e in edges})

    # then: each conversation counts all its messages on either page, one batch for all
    assert {title: page["totalCount"] for title, page in pages[1].items()} == {
        "five": 5,
        "two": 2,
    }
    assert {title: _contents(page) for title, page in pages[1].items()} == {
        "five": ["m3", "m4"],
        "two": [],
    }
    assert pages[0]["five"]["totalCount"] == 5
    assert trips[0] == trips[1]
