"""Search: one contract (`SearchIndex`), two backends (PostgreSQL full-text search, the
embedded default, and Elasticsearch), the query syntax, and the outbox-fed indexer."""

from flowgate.search.base import DocumentType, SearchIndex, SearchUnavailableError
from flowgate.search.query import QuerySyntaxError, parse

__all__ = ["DocumentType", "QuerySyntaxError", "SearchIndex", "SearchUnavailableError", "parse"]
