"""The GraphiQL page's own contract, without a browser (`test_clients_graphiql.py` drives it
in Chromium): the examples are valid operations of the current schema, one tab each, and
every file the page loads from the CDN is pinned by an integrity hash."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate

from flowgate.graphiql import Example, examples
from schema import schema

KINDS = {OperationType.QUERY, OperationType.SUBSCRIPTION}


@pytest.mark.parametrize("example", examples(), ids=lambda example: example.name)
def test_each_example_is_a_valid_operation(example: Example) -> None:
    # when
    document = parse(example.query)

    # then: it validates, and names its single operation (the tab's title)
    assert validate(schema._schema, document) == []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None


def test_the_examples_teach_a_dashboard_a_search_and_a_subscription() -> None:
    operations = [parse(example.query).definitions[0] for example in examples()]
    assert {op.operation for op in operations if isinstance(op, OperationDefinitionNode)} == KINDS
    assert "search(" in examples()[1].query


async def test_the_page_opens_on_the_examples_with_pinned_files(
    anonymous: httpx.AsyncClient,
) -> None:
    # when: a browser asks for /graphql
    page = await anonymous.get("/graphql", headers={"Accept": "text/html"})

    # then: the page, with one tab per example
    assert page.status_code == 200
    tabs = json.loads(re.search(r"const TABS = (\[.*?\]);\n", page.text)[1])  # type: ignore[index]
    assert [tab["query"] for tab in tabs] == [example.query for example in examples()]
    # every script and stylesheet from the CDN carries an integrity hash
    cdn_tags = re.findall(r"<(?:script|link)[^>]*unpkg\.com[^>]*>", page.text, flags=re.S)
    assert len(cdn_tags) == 6  # React, ReactDOM, GraphiQL and its explorer: scripts and styles
    assert all('integrity="sha384-' in tag for tag in cdn_tags)
