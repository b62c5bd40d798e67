"""Search metrics, on the process's default registry (served at `/metrics` with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INDEX_LAG = Gauge(
    "flowgate_search_index_lag_seconds",
    "Age of the oldest change not yet in the search index (0 when the index is current).",
)
OUTBOX_PENDING = Gauge(
    "flowgate_search_outbox_pending", "Objects waiting in the search outbox to be indexed."
)
INDEXED = Counter(
    "flowgate_search_indexed_total", "Objects (re)indexed or removed by the indexer.", ["type"]
)
INDEX_FAILURES = Counter(
    "flowgate_search_index_failures_total",
    "Indexer passes that failed (the entries wait).",
    ["backend"],
)
SEARCH_SECONDS = Histogram(
    "flowgate_search_seconds",
    "Time the search index took to answer a `search` query.",
    ["backend"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
