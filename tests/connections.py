"""The tests every root connection (`agents`, `executions`, `workflows`) must pass, written
once: page shape and total count, forward and backward walks, `before` a cursor, each filter
case and every `orderBy` field in both directions, each checked against the stores read
independently. A domain's test module subclasses `ConnectionTests` with a `ConnectionSpec`
that says how to read its stores; pytest runs the inherited tests there."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest

from flowgate.services import Services
from tests.graphql import all_edges, gql_data, local_id, local_ids

# A filter case: from the rows in default order and the spec's context, the GraphQL filter
# and the predicate that says which rows it must select.
FilterCase = Callable[[list[Any], dict[str, Any]], tuple[dict[str, Any], Callable[[Any], bool]]]


@dataclass(frozen=True)
class ConnectionSpec:
    """How to check one root connection against its store."""

    # The root field; `query` takes $first $after $last $before $filter $orderBy and
    # selects totalCount, pageInfo { hasNextPage hasPreviousPage startCursor endCursor } and
    # edges { cursor node { id } }.
    field: str
    query: str
    page_size: int
    # The organization's rows in the default order, read without the gateway.
    rows: Callable[[Services, uuid.UUID], Awaitable[list[Any]]]
    # The ids in the order (field, direction) gives, read without the gateway.
    ordered_ids: Callable[[Services, uuid.UUID, str, str], Awaitable[list[uuid.UUID]]]
    order_fields: tuple[str, ...]
    filter_cases: tuple[FilterCase, ...]
    # What the filter cases need beyond the rows (for example which agents have flowcharts).
    context: Callable[[Services, uuid.UUID], Awaitable[dict[str, Any]]] | None = None


class ConnectionTests:
    """Subclass with `spec` set; the module must provide an `organization_id` fixture (the
    organization the `client` fixture acts for), and seeded data with more rows than two
    pages."""

    spec: ClassVar[ConnectionSpec]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "filter_case" in metafunc.fixturenames:
            cases = self.spec.filter_cases
            metafunc.parametrize("filter_case", cases, ids=[case.__name__ for case in cases])
        if "order_field" in metafunc.fixturenames:
            metafunc.parametrize("order_field", self.spec.order_fields)
            metafunc.parametrize("direction", ["ASC", "DESC"])

    async def test_a_page_has_edges_page_info_and_the_total_count(
        self, client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
    ) -> None:
        # given
        spec = self.spec
        expected = _ids(await spec.rows(services, organization_id))
        assert len(expected) > 2 * spec.page_size

        # when
        data = await gql_data(client, spec.query, {"first": spec.page_size})

        # then
        connection = data[spec.field]
        assert connection["totalCount"] == len(expected)
        assert local_ids(connection["edges"]) == expected[: spec.page_size]
        assert connection["pageInfo"] == {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": connection["edges"][0]["cursor"],
            "endCursor": connection["edges"][-1]["cursor"],
        }

    async def test_forward_pages_walk_every_item_once_in_order_with_opaque_cursors(
        self, client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
    ) -> None:
        # given
        spec = self.spec
        expected = _ids(await spec.rows(services, organization_id))

        # when
        pages: list[dict[str, Any]] = []
        after = None
        while True:
            data = await gql_data(client, spec.query, {"first": spec.page_size, "after": after})
            pages.append(data[spec.field])
            if not pages[-1]["pageInfo"]["hasNextPage"]:
                break
            after = pages[-1]["pageInfo"]["endCursor"]

        # then: every item once, in order; the cursors do not show the ids
        walked = [edge for page in pages for edge in page["edges"]]
        assert local_ids(walked) == expected
        assert len(pages) == -(-len(expected) // spec.page_size)
        assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False] + [True] * (
            len(pages) - 1
        )
        assert {page["totalCount"] for page in pages} == {len(expected)}
        for edge in walked:
            item_id = local_id(edge["node"]["id"])
            assert str(item_id) not in edge["cursor"]
            assert item_id.hex not in edge["cursor"]
            assert str(item_id) not in edge["node"]["id"]

    async def test_backward_pages_return_the_forward_items_in_reverse_page_order(
        self, client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
    ) -> None:
        # given
        spec = self.spec
        expected = _ids(await spec.rows(services, organization_id))

        # when
        pages: list[dict[str, Any]] = []
        before = None
        while True:
            data = await gql_data(client, spec.query, {"last": spec.page_size, "before": before})
            pages.append(data[spec.field])
            if not pages[-1]["pageInfo"]["hasPreviousPage"]:
                break
            before = pages[-1]["pageInfo"]["startCursor"]

        # then
        end = len(expected)
        for page in pages:
            assert local_ids(page["edges"]) == expected[max(0, end - spec.page_size) : end]
            end -= spec.page_size
        assert end <= 0
        assert pages[0]["pageInfo"]["hasNextPage"] is False
        assert all(page["pageInfo"]["hasNextPage"] for page in pages[1:])

    async def test_a_page_before_a_cursor_is_the_items_just_before_it(
        self, client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
    ) -> None:
        # given: the cursor of the item at `at`, well inside the list
        spec = self.spec
        expected = _ids(await spec.rows(services, organization_id))
        at, size = 2 * spec.page_size, spec.page_size
        forward = await gql_data(client, spec.query, {"first": at + 1})
        cursor = forward[spec.field]["edges"][at]["cursor"]

        # when
        data = await gql_data(client, spec.query, {"last": size, "before": cursor})

        # then
        assert local_ids(data[spec.field]["edges"]) == expected[at - size : at]
        assert data[spec.field]["pageInfo"]["hasPreviousPage"] is True
        assert data[spec.field]["pageInfo"]["hasNextPage"] is True

    async def test_each_filter_matches_an_independent_query(
        self,
        client: httpx.AsyncClient,
        services: Services,
        organization_id: uuid.UUID,
        filter_case: FilterCase,
    ) -> None:
        # given
        spec = self.spec
        rows = await spec.rows(services, organization_id)
        context = await spec.context(services, organization_id) if spec.context else {}
        graphql_filter, predicate = filter_case(rows, context)
        expected = _ids([row for row in rows if predicate(row)])

        # when
        edges = await all_edges(
            client, spec.query, spec.field, {"filter": graphql_filter}, spec.page_size
        )
        total = await gql_data(client, spec.query, {"filter": graphql_filter, "first": 0})

        # then
        assert local_ids(edges) == expected
        assert total[spec.field]["totalCount"] == len(expected)

    async def test_order_by_each_field_and_direction_across_pages(
        self,
        client: httpx.AsyncClient,
        services: Services,
        organization_id: uuid.UUID,
        order_field: str,
        direction: str,
    ) -> None:
        # given
        spec = self.spec
        order = {"field": order_field, "direction": direction}
        expected = await spec.ordered_ids(services, organization_id, order_field, direction)

        # when
        forward = await all_edges(
            client, spec.query, spec.field, {"orderBy": order}, spec.page_size
        )
        last_page = await gql_data(client, spec.query, {"orderBy": order, "last": spec.page_size})

        # then
        assert local_ids(forward) == expected
        assert local_ids(last_page[spec.field]["edges"]) == expected[-spec.page_size :]


def _ids(rows: list[Any]) -> list[uuid.UUID]:
    return [row.id for row in rows]
