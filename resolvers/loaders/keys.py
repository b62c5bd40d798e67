"""A batch's keys as one array parameter.

`column IN (...)` renders one placeholder per key, so every batch size is a statement of its
own text: prepared again (one more round trip) the first time each size comes along, and
each size takes a place in the connection's statement cache. `column = ANY($1)` is one text
whatever the size: prepared once per connection, and PostgreSQL plans it as it plans IN."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def in_keys(column: Any, keys: Iterable[Any]) -> ColumnElement[bool]:
    values = list(keys)
    array = bindparam(None, values, type_=ARRAY(column.type))
    condition: ColumnElement[bool] = column == any_(array)
    return condition
