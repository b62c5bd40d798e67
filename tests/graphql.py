"""Talking to /graphql as a frontend does, and reading the stores as the tests' own oracle."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from flowgate.services import Services
from models.sql import Organization
from resolvers.ids import from_global_id


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a query to /graphql and return the JSON body, whatever it holds."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


async def gql_data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a query that must succeed; return its `data`."""
    body = await gql(client, query, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def all_edges(
    client: httpx.AsyncClient,
    query: str,
    field: str,
    variables: dict[str, Any] | None = None,
    page_size: int = 100,
) -> list[dict[str, Any]]:
    """Every edge of the connection `field`, walking forward with `first`/`after`.

    `query` must take `$first: Int` and `$after: String` and select `pageInfo`."""
    edges: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        data = await gql_data(
            client, query, {**(variables or {}), "first": page_size, "after": after}
        )
        connection = data[field]
        edges.extend(connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return edges
        after = connection["pageInfo"]["endCursor"]
        assert after is not None


def local_id(global_id: str) -> uuid.UUID:
    return from_global_id(global_id)[1]


def local_ids(edges: list[dict[str, Any]]) -> list[uuid.UUID]:
    return [local_id(edge["node"]["id"]) for edge in edges]


async def organization_ids(services: Services) -> list[uuid.UUID]:
    """Organization ids by name: the first is the one the `client` fixture acts for."""
    async with services.postgres.session() as session:
        query = select(Organization.id).order_by(Organization.name)
        return list((await session.scalars(query)).all())
