"""The root Query: each field delegates to `resolvers/` in one line."""

from __future__ import annotations

from typing import Annotated

import strawberry

from flowgate.context import Context
from resolvers import agents
from resolvers.pagination import PageRequest
from schema.agent import Agent
from schema.connection import Connection

First = Annotated[
    int | None,
    strawberry.argument(description="Page size going forward (default 20, at most 100)."),
]
After = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]
Last = Annotated[
    int | None, strawberry.argument(description="Page size going backward (at most 100).")
]
Before = Annotated[str | None, strawberry.argument(description="Cursor to continue before.")]


@strawberry.type(description="Everything that can be read.")
class Query:
    @strawberry.field(description="Agents of your organization, newest first.")
    async def agents(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Agent]:
        page, query = await agents.list_agents(
            info, page=PageRequest.from_arguments(first, after, last, before)
        )
        return Connection.from_page(page, Agent.from_model, lambda: agents.count(info, query))  # type: ignore[arg-type]
