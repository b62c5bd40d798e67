"""Round trips of conversation reads depend on the query's shape, never on how many
conversations or messages it returns (counted by `debug_round_trips`, as in
tests/test_round_trips.py), compiled and through the resolvers."""

from __future__ import annotations

from typing import Any

import httpx

from flowgate.services import Services
from flowgate.settings import Settings
from tests.auth import bearer
from tests.compiled import plain_app
from tests.conversations import POST, begin, chunk, create_project, run, start_chat
from tests.scratch import Scratch

LIST = """
query Chats($n: Int!, $title: String!) {
  conversations(first: $n, filter: {titleContains: $title}) {
    edges { node { title agent { name } user { email } lastMessage { content role } } }
  }
}
"""
NESTED = """
query Chats($n: Int!, $title: String!) {
  conversations(first: $n, filter: {titleContains: $title}) {
    totalCount
    edges { node {
      # (toolCalls from one path only: reached at two depths, one loader's batches would
      # merge or not depending on which store answers first)
      title agent { name owner { email } conversations(first: 3) { totalCount } }
      user { email } project { name agents { name } }
      lastMessage { content attachments { name } }
      messages(last: 5) { totalCount edges { node { content toolCalls { status } } } }
      branches { id }
    } }
  }
}
"""


async def _trips(client: httpx.AsyncClient, query: str, n: int, title: str) -> tuple[Any, int]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"n": n, "title": title}}
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    edges = body["data"]["conversations"]["edges"]
    return body["extensions"]["roundTrips"], len(edges)


async def test_a_conversation_list_costs_the_same_for_2_and_8_conversations(
    chats: Scratch,
    client: httpx.AsyncClient,
    settings: Settings,
    services: Services,
    admin_key: str,
) -> None:
    # given: eight conversations over two agents, in a project, with replies
    agents = [await chats.create_agent("a"), await chats.create_agent("b")]
    project = await create_project(client, chats.name("project"))
    title = chats.prefix
    for index in range(8):
        conversation, question = await start_chat(
            client, agents[index % 2], "hi", title=f"{title}{index}", project=project
        )
        await run(client, POST, id=conversation, content="more")
        reply = await begin(client, conversation, question)
        await chunk(client, reply, 1, f"answer {index}")

    async for plain in plain_app(settings, services):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=plain),
            base_url="http://flowgate.test",
            headers=bearer(admin_key),
        ) as resolvers:
            for http, compiled in ((client, True), (resolvers, False)):
                # when
                small = await _trips(http, LIST, 2, title)
                large = await _trips(http, LIST, 8, title)
                nested_small = await _trips(http, NESTED, 2, title)
                nested_large = await _trips(http, NESTED, 8, title)

                # then: as many round trips for 8 as for 2
                assert (small[1], large[1]) == (2, 8)
                assert small[0] == large[0]
                assert nested_small[0] == nested_large[0]
                if compiled:  # one statement each (tests/test_compiled_messages.py)
                    assert small[0] == nested_small[0] == {"sql": 1, "mongo": 0}
                    continue
                # the resolvers: the list with last message, agent and user: the page,
                # then one batch per loader
                assert small[0] == {"sql": 4, "mongo": 0}
                # page, count, agents, their owners, their conversations, users, projects,
                # their agents, last messages, attachments, message pages, tool calls,
                # branches
                assert nested_small[0] == {"sql": 13, "mongo": 0}
