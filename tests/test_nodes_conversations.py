"""`node(id)` for the conversation domain: a project, a conversation and a message are found
by their global ids exactly when the caller may read them (as `project(id)` and
`conversation(id)` answer), and never in another organization."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from flowgate.services import Services
from tests.auth import OTHER_ADMIN, USER, VIEWER, client_as
from tests.conversations import create_project, start_chat
from tests.scratch import Scratch, gql

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Project { name }
    ... on Conversation { title }
    ... on Message { content }
  }
}
"""


async def test_conversation_types_are_nodes_visible_as_their_roots_are(
    chats: Scratch, client: httpx.AsyncClient, app: FastAPI, services: Services
) -> None:
    # given: a project, a user's private chat and one held in the project
    agent = await chats.create_agent()
    project = await create_project(client, chats.name("project"))
    async with (
        client_as(app, services, USER) as user,
        client_as(app, services, VIEWER) as viewer,
        client_as(app, services, OTHER_ADMIN) as outsider,
    ):
        private, private_message = await start_chat(user.http, agent, "mine", title="mine")
        shared, shared_message = await start_chat(
            user.http, agent, "ours", title="ours", project=project
        )

        async def seen(who: object, global_id: str) -> object:
            body = await who.post(NODE, {"id": global_id})  # type: ignore[attr-defined]
            assert "errors" not in body, body
            return body["data"]["node"]

        # then: the user finds all five, typed
        assert await seen(user, project) == {"__typename": "Project", "id": project,
                                             "name": chats.name("project")}  # fmt: skip
        assert await seen(user, private) == {"__typename": "Conversation", "id": private,
                                             "title": "mine"}  # fmt: skip
        assert await seen(user, private_message) == {
            "__typename": "Message", "id": private_message, "content": "mine"
        }  # fmt: skip
        # and: another member only the project and what it holds
        assert (await seen(viewer, project) or {}).get("id") == project
        assert await seen(viewer, private) is None
        assert await seen(viewer, private_message) is None
        assert (await seen(viewer, shared) or {}).get("id") == shared
        assert (await seen(viewer, shared_message) or {}).get("id") == shared_message
        # and: the admin everything; another organization nothing
        for global_id in (project, private, private_message, shared, shared_message):
            node = (await gql(client, NODE, {"id": global_id}))["node"]
            assert node is not None and node["id"] == global_id
            assert await seen(outsider, global_id) is None
