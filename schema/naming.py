"""Field and argument names, converted once.

Strawberry converts each argument's Python name to camelCase on every resolver call; on a
page of 50 agents with nested connections that was a quarter of the request's CPU time
(pyinstrument, 2026-11). The conversion is pure, so it is cached."""

from __future__ import annotations

from functools import lru_cache

from strawberry.schema.name_converter import NameConverter


class CachedNameConverter(NameConverter):
    def apply_naming_config(self, name: str) -> str:
        return _camel_case(name) if self.auto_camel_case else name


@lru_cache(maxsize=4096)
def _camel_case(name: str) -> str:
    return NameConverter(auto_camel_case=True).apply_naming_config(name)
