"""Which search backend a deployment uses: Elasticsearch when `FLOWGATE_ELASTICSEARCH_URL`
is set, else PostgreSQL full-text search on the gateway's own database."""

from __future__ import annotations

from flowgate.search.base import SearchIndex
from flowgate.search.elastic import ElasticsearchIndex
from flowgate.search.postgres import PostgresSearchIndex
from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres


def create_search_index(settings: Settings, postgres: Postgres) -> SearchIndex:
    if settings.elasticsearch_url is not None:
        return ElasticsearchIndex(
            settings.elasticsearch_url, settings.search_index_name, timeout=settings.store_timeout
        )
    return PostgresSearchIndex(postgres)
