"""The plan cache is bounded, and keeps what is used."""

from __future__ import annotations

from resolvers.compiled.cache import BoundedCache


def test_the_least_recently_used_plan_leaves_first() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    cache.put("a", "plan a")
    cache.put("b", "plan b")
    assert cache.get("a") == "plan a"  # used: now the most recent

    cache.put("c", "plan c")

    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == "plan a"
    assert cache.get("c") == "plan c"
