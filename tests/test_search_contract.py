"""One contract, both search backends: the same documents, queries and expected results.

The PostgreSQL backend always runs, on a database of its own (a rebuild replaces every
document of a type, whoever's). The Elasticsearch backend runs when FLOWGATE_ELASTICSEARCH_URL
names a cluster, in an index of its own that is deleted at the end; it is skipped otherwise."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from flowgate import migrate
from flowgate.search.base import (
    DocumentType,
    Reader,
    SearchDocument,
    SearchFilter,
    SearchIndex,
    SearchRequest,
)
from flowgate.search.elastic import ElasticsearchIndex
from flowgate.search.postgres import PostgresSearchIndex
from flowgate.search.query import parse
from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres

if TYPE_CHECKING:  # at run time, pytest would try to collect `TestStores` as tests
    from tests.stores import TestStores

ELASTICSEARCH_URL = os.environ.get("FLOWGATE_ELASTICSEARCH_URL") or None
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()
ALICE, BOB = uuid.uuid4(), uuid.uuid4()


def _doc(type_: DocumentType, title: str, body: str, **fields: object) -> SearchDocument:
    values: dict[str, object] = {"organization_id": ORG, "updated_at": NOW, **fields}
    return SearchDocument(type=type_, object_id=uuid.uuid4(), title=title, body=body, **values)  # type: ignore[arg-type]


EXECUTION_ID = uuid.uuid4()
DOCS = {
    "refund_agent": _doc(
        DocumentType.AGENT, "Refund classifier", "Classifies refund requests with gpt-4o",
        status="active", category="support", tags=("billing", "triage"),
    ),
    "routing_workflow": _doc(
        DocumentType.WORKFLOW, "Ticket routing", "Routes support tickets and handles refunds",
        status="draft", category="support", tags=("triage",),
    ),
    "private_workflow": _doc(
        DocumentType.WORKFLOW, "Payroll export", "Exports payroll to the bank",
        status="active", category="finance", readers=(ALICE,),
    ),
    "failed_step": _doc(
        DocumentType.EXECUTION_EVENT, "step_3", "RateLimitError: rate limit exceeded upstream",
        status="failed", category="support", parent_id=EXECUTION_ID,
    ),
    "limit_rate": _doc(
        DocumentType.EXECUTION, "Billing sync", "limit the rate of calls to the billing service",
        status="succeeded", category="billing",
    ),
    "foreign": _doc(
        DocumentType.AGENT, "Refund bot", "Handles refund requests", organization_id=OTHER_ORG,
        status="active", category="support",
    ),
}  # fmt: skip
NAMES = {document.key: name for name, document in DOCS.items()}


@dataclass
class Backend:
    index: SearchIndex

    async def find(
        self, query: str, *, reader: Reader | None = None, **fields: object
    ) -> list[str]:
        """The names (keys of DOCS) of what the query finds, best first."""
        request = SearchRequest(
            query=parse(query), reader=reader or Reader(ORG, None, everything=True)
        )
        results = await self.index.search(replace(request, **fields))  # type: ignore[arg-type]
        return [NAMES.get(f"{hit.type.value}:{hit.object_id}", "?") for hit in results.hits]


async def _postgres_index(test_stores: TestStores) -> AsyncIterator[SearchIndex]:
    settings = Settings(
        database_url=await test_stores.create_database("search"),
        _env_file=None,  # type: ignore[call-arg]
    )
    await migrate.upgrade(settings)
    postgres = Postgres(settings)
    async with postgres.engine.begin() as connection:
        for organization in (ORG, OTHER_ORG):
            await connection.execute(
                text("INSERT INTO organizations (id, name, slug) VALUES (:id, :slug, :slug)"),
                {"id": organization, "slug": f"search-{organization.hex[:8]}"},
            )
    try:
        yield PostgresSearchIndex(postgres)
    finally:
        await postgres.close()


async def _elasticsearch_index() -> AsyncIterator[SearchIndex]:
    assert ELASTICSEARCH_URL is not None
    index = ElasticsearchIndex(ELASTICSEARCH_URL, f"flowgate_test_contract_{uuid.uuid4().hex[:8]}")
    try:
        await index.ensure()
        yield index
    finally:
        await index.drop()
        await index.close()


@pytest.fixture(
    scope="module",
    params=[
        "postgresql",
        pytest.param(
            "elasticsearch",
            marks=pytest.mark.skipif(
                ELASTICSEARCH_URL is None,
                reason="FLOWGATE_ELASTICSEARCH_URL is not set: no Elasticsearch to test against",
            ),
        ),
    ],
)
async def backend(
    request: pytest.FixtureRequest, test_stores: TestStores
) -> AsyncIterator[Backend]:
    make = _postgres_index(test_stores) if request.param == "postgresql" else _elasticsearch_index()
    async for index in make:
        await index.upsert(list(DOCS.values()))
        yield Backend(index)


async def test_every_word_must_match_stemmed(backend: Backend) -> None:
    assert set(await backend.find("refund ")) == {"refund_agent", "routing_workflow"}
    assert await backend.find("refund requests ") == ["refund_agent"]
    assert await backend.find("refunds handles ") == ["routing_workflow"]


async def test_a_quoted_phrase_matches_words_in_order(backend: Backend) -> None:
    assert await backend.find('"rate limit"') == ["failed_step"]
    assert set(await backend.find("rate limit ")) == {"failed_step", "limit_rate"}


async def test_excluded_words_and_phrases(backend: Backend) -> None:
    assert await backend.find("refund -triage") == []
    assert await backend.find("rate limit -upstream") == ["limit_rate"]
    assert await backend.find('rate -"rate limit"') == ["limit_rate"]


async def test_the_last_word_matches_as_a_prefix_while_typing(backend: Backend) -> None:
    assert await backend.find("classif") == ["refund_agent"]
    assert await backend.find("refund classif") == ["refund_agent"]
    assert await backend.find("classif ") == []  # a space ends the word


async def test_words_are_letters_and_digits(backend: Backend) -> None:
    assert await backend.find("gpt-4o ") == ["refund_agent"]
    assert await backend.find("step_3 ") == ["failed_step"]
    assert await backend.find("RATELIMITERROR ") == ["failed_step"]


async def test_a_title_match_ranks_above_a_body_match(backend: Backend) -> None:
    assert await backend.find("billing ") == ["limit_rate", "refund_agent"]


async def test_results_are_scoped_to_the_organization(backend: Backend) -> None:
    assert "foreign" not in await backend.find("refund ")
    other = Reader(OTHER_ORG, None, everything=True)
    assert await backend.find("refund ", reader=other) == ["foreign"]


async def test_restricted_documents_reach_their_readers_only(backend: Backend) -> None:
    assert await backend.find("payroll ", reader=Reader(ORG, ALICE, everything=False)) == [
        "private_workflow"
    ]
    assert await backend.find("payroll ", reader=Reader(ORG, BOB, everything=False)) == []
    assert await backend.find("payroll ", reader=Reader(ORG, BOB, everything=True)) == [
        "private_workflow"
    ]


async def test_types_and_filters(backend: Backend) -> None:
    found = await backend.find("support ", types=frozenset({DocumentType.WORKFLOW}))
    assert found == ["routing_workflow"]
    assert await backend.find("refund ", filter=SearchFilter(tags=("billing",))) == ["refund_agent"]
    assert await backend.find("refund ", filter=SearchFilter(statuses=("draft",))) == [
        "routing_workflow"
    ]
    found = await backend.find("billing ", filter=SearchFilter(categories=("billing", "x")))
    assert found == ["limit_rate"]


async def test_facets_count_every_match(backend: Backend) -> None:
    request = SearchRequest(parse("refund "), Reader(ORG, None, everything=True), limit=1)
    results = await backend.index.search(request)
    assert results.total == 2
    assert len(results.hits) == 1 and results.has_next_page
    facets = results.facets
    assert {(c.value, c.count) for c in facets.types} == {("Agent", 1), ("Workflow", 1)}
    assert {(c.value, c.count) for c in facets.statuses} == {("active", 1), ("draft", 1)}
    assert [(c.value, c.count) for c in facets.tags] == [("triage", 2), ("billing", 1)]
    assert [(c.value, c.count) for c in facets.categories] == [("support", 2)]


async def test_pages_continue_after_the_last_hit(backend: Backend) -> None:
    reader = Reader(ORG, None, everything=True)
    seen: list[str] = []
    after = None
    for _ in range(5):
        # "r", still being typed: every document with a word that starts with r.
        request = SearchRequest(parse("r"), reader, limit=1, after=after)
        results = await backend.index.search(request)
        seen += [f"{hit.type.value}:{hit.object_id}" for hit in results.hits]
        if not results.has_next_page:
            break
        after = results.hits[-1].sort
    assert len(seen) == len(set(seen))
    everything = await backend.index.search(SearchRequest(parse("r"), reader, limit=100))
    assert seen == [f"{hit.type.value}:{hit.object_id}" for hit in everything.hits]


async def test_highlights_mark_the_matched_words(backend: Backend) -> None:
    request = SearchRequest(parse('"rate limit"'), Reader(ORG, None, everything=True))
    (hit,) = (await backend.index.search(request)).hits
    (body,) = [h for h in hit.highlights if h.field == "body"]
    assert any("<em>rate</em>" in fragment for fragment in body.fragments)
    assert any("<em>limit</em>" in fragment for fragment in body.fragments)


async def test_upsert_replaces_and_delete_removes(backend: Backend) -> None:
    changed = replace(DOCS["routing_workflow"], title="Ticket routing with escalation")
    await backend.index.upsert([changed])
    assert await backend.find("escalation ") == ["routing_workflow"]
    await backend.index.upsert([DOCS["routing_workflow"]])
    assert await backend.find("escalation ") == []

    extra = _doc(
        DocumentType.EXECUTION_EVENT, "step_9", "transient quota error", parent_id=EXECUTION_ID
    )
    gone = _doc(DocumentType.AGENT, "Quota watcher", "watches quota")
    await backend.index.upsert([extra, gone])
    await backend.index.delete([gone.key], parents=[EXECUTION_ID])
    assert await backend.find("quota ") == []
    assert await backend.find('"rate limit"') == []
    await backend.index.upsert([DOCS["failed_step"]])


async def test_retention_expires_old_events(backend: Backend) -> None:
    old = _doc(
        DocumentType.EXECUTION_EVENT,
        "step_1",
        "ancient timeout",
        updated_at=NOW - timedelta(days=400),
    )
    await backend.index.upsert([old])
    assert await backend.find("ancient ") == [NAMES.get(old.key, "?")]
    removed = await backend.index.expire(DocumentType.EXECUTION_EVENT, NOW - timedelta(days=90))
    assert removed == 1
    assert await backend.find("ancient ") == []


async def test_rebuild_swaps_in_the_rebuilt_types_and_keeps_the_others(backend: Backend) -> None:
    rebuilt = _doc(DocumentType.AGENT, "Refund auditor", "Audits refunds", status="active")

    async def batches() -> AsyncIterator[list[SearchDocument]]:
        yield [rebuilt, DOCS["foreign"]]

    count = await backend.index.rebuild(frozenset({DocumentType.AGENT}), batches())
    assert count == 2
    found = await backend.find("refund ")
    assert set(found) == {"?", "routing_workflow"}  # the new agent, not the old one
    assert await backend.find("payroll ") == ["private_workflow"]

    async def again() -> AsyncIterator[list[SearchDocument]]:
        yield [DOCS["refund_agent"], DOCS["foreign"]]

    await backend.index.rebuild(frozenset({DocumentType.AGENT}), again())
    assert set(await backend.find("refund ")) == {"refund_agent", "routing_workflow"}


async def test_a_conversation_and_its_messages_keep_their_readers_and_leave_together(
    backend: Backend,
) -> None:
    # given: Alice's private conversation and a message of it
    conversation = _doc(DocumentType.CONVERSATION, "Kubernetes upgrade", "", readers=(ALICE,))
    message = _doc(
        DocumentType.MESSAGE, "", "How do I drain a kubernetes node?",
        status="complete", parent_id=conversation.object_id, readers=(ALICE,),
    )  # fmt: skip
    await backend.index.upsert([conversation, message])
    alice, bob = Reader(ORG, ALICE, everything=False), Reader(ORG, BOB, everything=False)

    # when
    for_alice = await backend.index.search(SearchRequest(parse("kubernetes "), alice))
    for_bob = await backend.index.search(SearchRequest(parse("kubernetes "), bob))
    await backend.index.delete([conversation.key], parents=[conversation.object_id])
    after = await backend.index.search(SearchRequest(parse("kubernetes "), alice))

    # then: the title ranks first; the types are faceted by their own names
    assert [hit.object_id for hit in for_alice.hits] == [
        conversation.object_id,
        message.object_id,
    ]
    assert {(c.value, c.count) for c in for_alice.facets.types} == {
        ("Conversation", 1),
        ("Message", 1),
    }
    assert (for_bob.total, for_bob.hits) == (0, ())
    assert (after.total, after.hits) == (0, ())
