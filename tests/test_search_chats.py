"""Conversations and messages in `search`: found by their words once the indexer has run,
with highlights; scoped as conversations are (its user, members through a project that is
not deleted, admins; never another organization); soft-deleted ones not found; and the
index follows each change (a post, a reply's finish or stop, a delete, a restore, a project
deleted)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from flowgate.search.indexer import index_all_pending
from flowgate.services import Services
from tests.auth import OTHER_ADMIN, USER, VIEWER, AsClient, client_as
from tests.conversations import (
    FINISH,
    POST,
    STOP,
    begin,
    chunk,
    create_project,
    run,
    start_chat,
)
from tests.scratch import Scratch, gql

SEARCH = """
query Search($query: String!, $types: [SearchType!]) {
  search(query: $query, types: $types, first: 20) {
    totalCount
    edges { node { type highlights { field fragments }
            object { __typename ... on Conversation { id title }
                     ... on Message { id content status } } } }
    facets { types { value count } statuses { value count } }
  }
}
"""


def word(stem: str) -> str:
    """A word no other test (or seeded row) contains."""
    return f"{stem}{uuid.uuid4().hex[:8]}"


async def found(client: httpx.AsyncClient | AsClient, query: str, **variables: Any) -> Any:
    if isinstance(client, AsClient):
        body = await client.post(SEARCH, {"query": query, **variables})
        assert "errors" not in body, body
        return body["data"]["search"]
    return (await gql(client, SEARCH, {"query": query, **variables}))["search"]


def objects(result: Any) -> list[tuple[str, str]]:
    """(typename, id) of each result, in order."""
    return [
        (edge["node"]["object"]["__typename"], edge["node"]["object"]["id"])
        for edge in result["edges"]
    ]


async def indexed(services: Services) -> None:
    await index_all_pending(services, services.search)


async def test_a_message_and_a_conversation_are_found_with_highlights(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    # given
    topic, asked = word("heron"), word("quokka")
    agent = await chats.create_agent()
    conversation, first = await start_chat(
        client, agent, f"Tell me about the {asked} please", title=f"About {topic}"
    )

    # when
    before = await found(client, f"{asked} ")
    await indexed(services)

    # then: nothing before the indexer ran; the message by its content, the conversation
    # by its title, each with its words highlighted
    assert before["totalCount"] == 0
    message = await found(client, f"{asked} ")
    assert objects(message) == [("Message", first)]
    (highlight,) = message["edges"][0]["node"]["highlights"]
    assert highlight["field"] == "body"
    assert f"<em>{asked}</em>" in highlight["fragments"][0]
    assert message["facets"]["types"] == [{"value": "MESSAGE", "count": 1}]
    assert message["facets"]["statuses"] == [{"value": "complete", "count": 1}]
    titled = await found(client, topic)
    assert objects(titled) == [("Conversation", conversation)]
    assert titled["edges"][0]["node"]["highlights"][0]["field"] == "title"


async def test_a_facet_value_is_taken_back_as_a_type(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    # given: a word in a conversation's title and in one of its messages
    shared = word("lynx")
    agent = await chats.create_agent()
    conversation, first = await start_chat(client, agent, f"the {shared} case", title=shared)
    await indexed(services)
    facets = (await found(client, shared))["facets"]["types"]
    assert {facet["value"] for facet in facets} == {"CONVERSATION", "MESSAGE"}

    # when: each facet's value is passed back as `types`
    by_type = {f["value"]: objects(await found(client, shared, types=[f["value"]])) for f in facets}

    # then
    assert by_type == {
        "CONVERSATION": [("Conversation", conversation)],
        "MESSAGE": [("Message", first)],
    }


async def test_a_reply_is_indexed_when_it_finishes_or_stops(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    # given: two replies streaming
    finished_word, stopped_word, never = word("ibis"), word("tapir"), word("dugong")
    agent = await chats.create_agent()
    conversation, question = await start_chat(client, agent, "two answers please")
    one = await begin(client, conversation, question)
    await chunk(client, one, 1, f"First, the {finished_word} ")
    await indexed(services)
    streaming = await found(client, f"{finished_word} ")

    # when: one finishes; the other is stopped after its first chunk
    await chunk(client, one, 2, "answer.")
    await run(client, FINISH, id=one)
    posted = await run(client, POST, id=conversation, content="and the second?")
    assert posted["__typename"] == "MessagePayload"
    two = await begin(client, conversation, posted["chatMessage"]["id"])
    await chunk(client, two, 1, f"Second, the {stopped_word}")
    await run(client, STOP, id=two)
    await chunk(client, two, 2, f" {never}")  # refused: the reply is stopped
    await indexed(services)

    # then: a streaming reply is not indexed chunk by chunk; finished and stopped ones are,
    # with what was written
    assert streaming["totalCount"] == 0
    done = await found(client, f"{finished_word} ")
    assert [e["node"]["object"] for e in done["edges"]] == [
        {"__typename": "Message", "id": one, "content": f"First, the {finished_word} answer.",
         "status": "COMPLETE"}
    ]  # fmt: skip
    stopped = await found(client, f"{stopped_word} ")
    assert [e["node"]["object"]["status"] for e in stopped["edges"]] == ["STOPPED"]
    assert (await found(client, f"{never} "))["totalCount"] == 0


async def test_members_find_only_the_conversations_they_may_read(
    chats: Scratch, client: httpx.AsyncClient, app: FastAPI, services: Services
) -> None:
    # given: a user's private conversation, and one held in a project
    private_word, shared_word = word("marmot"), word("pangolin")
    agent = await chats.create_agent()
    project = await create_project(client, chats.name("project"))
    async with (
        client_as(app, services, USER) as user,
        client_as(app, services, VIEWER) as viewer,
        client_as(app, services, OTHER_ADMIN) as outsider,
    ):
        private, private_first = await start_chat(
            user.http, agent, f"my {private_word}", title="mine"
        )
        shared, shared_first = await start_chat(
            user.http, agent, f"our {shared_word}", project=project, title="ours"
        )
        await indexed(services)

        # then: the user finds both; another member only the shared one, counted by the
        # index too; the admin both; another organization's admin neither
        assert objects(await found(user, f"{private_word} ")) == [("Message", private_first)]
        assert objects(await found(user, f"{shared_word} ")) == [("Message", shared_first)]
        hidden = await found(viewer, f"{private_word} ")
        assert (objects(hidden), hidden["totalCount"]) == ([], 0)
        assert objects(await found(viewer, f"{shared_word} ")) == [("Message", shared_first)]
        assert objects(await found(client, f"{private_word} ")) == [("Message", private_first)]
        for term in (private_word, shared_word):
            foreign = await found(outsider, f"{term} ")
            assert (objects(foreign), foreign["totalCount"]) == ([], 0)

        # when: the project is deleted, the shared conversation is private again: at once
        # (each hit is checked against the stores), and in the index after the next pass
        deleted = "mutation($id: ID!) { deleteProject(id: $id) { __typename } }"
        await run(client, deleted, id=project)
        right_away = await found(viewer, f"{shared_word} ")
        await indexed(services)
        later = await found(viewer, f"{shared_word} ")

        # then
        assert objects(right_away) == []
        assert (objects(later), later["totalCount"]) == ([], 0)
        assert objects(await found(user, f"{shared_word} ")) == [("Message", shared_first)]
        assert shared and private


async def test_a_deleted_conversation_is_not_found_until_restored(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    # given: an indexed conversation
    term = word("axolotl")
    agent = await chats.create_agent()
    conversation, first = await start_chat(client, agent, f"the {term} question", title=term)
    await indexed(services)
    assert len(objects(await found(client, term))) == 2

    # when: deleted (softly)
    await run(client, "mutation($id: ID!) { deleteConversation(id: $id) { __typename } }",
              id=conversation)  # fmt: skip
    right_away = await found(client, term)
    await indexed(services)
    later = await found(client, term)

    # and: restored
    await run(client, "mutation($id: ID!) { restoreConversation(id: $id) { __typename } }",
              id=conversation)  # fmt: skip
    await indexed(services)
    back = await found(client, term)

    # then
    assert objects(right_away) == []
    assert (objects(later), later["totalCount"]) == ([], 0)
    assert sorted(objects(back)) == [("Conversation", conversation), ("Message", first)]


async def test_a_renamed_conversation_is_found_by_its_new_title(
    chats: Scratch, client: httpx.AsyncClient, services: Services
) -> None:
    old, new = word("wombat"), word("numbat")
    agent = await chats.create_agent()
    conversation, _ = await start_chat(client, agent, "hello", title=old)
    await indexed(services)
    rename = (
        "mutation($id: ID!, $t: String!) { renameConversation(id: $id, title: $t) { __typename } }"
    )

    await run(client, rename, id=conversation, t=new)
    await indexed(services)

    assert objects(await found(client, old)) == []
    assert objects(await found(client, new)) == [("Conversation", conversation)]
