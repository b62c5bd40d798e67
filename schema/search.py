"""`search`: words over agents, workflows, executions, execution events, conversations and
messages."""

from __future__ import annotations

from typing import Annotated, Final

import strawberry

from flowgate.search import base as search
from resolvers import search as resolvers
from resolvers.context import Context
from schema.agent import Agent
from schema.connection import PAGE_SIZE_BOUNDS, PageInfo
from schema.conversation import Conversation, Message
from schema.execution import Execution
from schema.execution_event import ExecutionEvent
from schema.workflow import Workflow

# Registered on the domain enum itself (`strawberry.enum` returns its argument).
strawberry.enum(
    search.DocumentType, name="SearchType", description="What kind of object a result is."
)

SearchObject = Annotated[
    Agent | Workflow | Execution | ExecutionEvent | Conversation | Message,
    strawberry.union("SearchObject", description="The object a search result stands for."),
]
# The GraphQL type of each kind of result: the members of `SearchObject`, one for each
# `SearchType` (tests/test_single_sources.py checks that the three agree).
OBJECT_TYPES: Final[dict[search.DocumentType, type]] = {
    search.DocumentType.AGENT: Agent,
    search.DocumentType.WORKFLOW: Workflow,
    search.DocumentType.EXECUTION: Execution,
    search.DocumentType.EXECUTION_EVENT: ExecutionEvent,
    search.DocumentType.CONVERSATION: Conversation,
    search.DocumentType.MESSAGE: Message,
}


@strawberry.input(description="Narrows results to exact values; within a field any value.")
class SearchFilter:
    status: list[str] | None = strawberry.field(
        default=None, description="Statuses, as stored: `active`, `failed`, `draft`, ..."
    )
    tag: list[str] | None = strawberry.field(
        default=None, description="Tags (workflows) or capabilities (agents)."
    )
    category: list[str] | None = strawberry.field(default=None, description="Categories.")

    def to_filter(self) -> search.SearchFilter:
        return search.SearchFilter(
            statuses=tuple(self.status or ()),
            tags=tuple(self.tag or ()),
            categories=tuple(self.category or ()),
        )


@strawberry.type(description="Where the query matched in one field of the object.")
class SearchHighlight:
    field: str = strawberry.field(description="`title` or `body`.")
    fragments: list[str] = strawberry.field(
        description="Excerpts with the matched words in <em>...</em>; the rest is plain text."
    )


@strawberry.type(description="One match.")
class SearchResult:
    score: float = strawberry.field(description="Relevance; comparable within one search only.")
    type: search.DocumentType = strawberry.field(description="What kind of object this is.")
    highlights: list[SearchHighlight] = strawberry.field(
        description="Matched excerpts, title first."
    )
    object: SearchObject = strawberry.field(description="The object, as it is now.")

    @classmethod
    def from_found(cls, found: resolvers.Found) -> SearchResult:
        hit = found.hit
        return cls(
            score=hit.score,
            type=hit.type,
            highlights=[
                SearchHighlight(field=h.field, fragments=list(h.fragments)) for h in hit.highlights
            ],
            object=OBJECT_TYPES[hit.type].from_model(found.model),  # type: ignore[attr-defined]
        )


@strawberry.type(description="A search result and the cursor that points at it.")
class SearchEdge:
    cursor: str = strawberry.field(description="Opaque; pass as `after` to continue.")
    node: SearchResult = strawberry.field(description="The result.")


@strawberry.type(description="How many matches have one value of a field.")
class FacetCount:
    value: str = strawberry.field(description="The value.")
    count: int = strawberry.field(description="Matches with it.")


@strawberry.type(description="How many matches are of one kind of object.")
class SearchTypeCount:
    value: search.DocumentType = strawberry.field(
        description="The kind, as the `types` argument takes it back."
    )
    count: int = strawberry.field(description="Matches of it.")


@strawberry.type(description="Counts over every match (all pages), most frequent first.")
class SearchFacets:
    types: list[SearchTypeCount] = strawberry.field(description="By kind of object.")
    statuses: list[FacetCount] = strawberry.field(description="By status.")
    tags: list[FacetCount] = strawberry.field(description="By tag (top 20).")
    categories: list[FacetCount] = strawberry.field(description="By category (top 20).")

    @classmethod
    def from_facets(cls, facets: search.Facets) -> SearchFacets:
        def counts(values: tuple[search.FacetCount, ...]) -> list[FacetCount]:
            return [FacetCount(value=c.value, count=c.count) for c in values]

        return cls(
            types=[
                SearchTypeCount(value=search.DocumentType(c.value), count=c.count)
                for c in facets.types
            ],
            statuses=counts(facets.statuses),
            tags=counts(facets.tags),
            categories=counts(facets.categories),
        )


@strawberry.type(description="A page of search results, best first.")
class SearchConnection:
    edges: list[SearchEdge] = strawberry.field(description="The results of this page.")
    page_info: PageInfo = strawberry.field(description="How to reach the next page.")
    total_count: int = strawberry.field(
        description="Matches in the index across all pages (before results that no longer "
        "exist are dropped)."
    )
    facets: SearchFacets = strawberry.field(description="Counts of the matches by field.")


async def resolve_search(
    info: strawberry.Info[Context],
    query: Annotated[
        str,
        strawberry.argument(
            description='Words (all must match), "quoted phrases", -excluded words; the last '
            "word also matches as a prefix unless followed by a space. At most 200 characters."
        ),
    ],
    types: Annotated[
        list[search.DocumentType] | None,
        strawberry.argument(description="Only these kinds of object (default: all)."),
    ] = None,
    filter: Annotated[
        SearchFilter | None, strawberry.argument(description="Only these exact values.")
    ] = None,
    first: Annotated[
        int | None, strawberry.argument(description=f"Page size ({PAGE_SIZE_BOUNDS}).")
    ] = None,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = (
        None
    ),
) -> SearchConnection:
    page = await resolvers.search(
        info,
        query=query,
        types=types,
        filter_=filter.to_filter() if filter else search.SearchFilter(),
        first=first,
        after=after,
    )
    edges = [
        SearchEdge(cursor=cursor, node=SearchResult.from_found(found))
        for found, cursor in zip(page.found, page.cursors, strict=True)
    ]
    return SearchConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.end_cursor,
        ),
        total_count=page.total,
        facets=SearchFacets.from_facets(page.facets),
    )
