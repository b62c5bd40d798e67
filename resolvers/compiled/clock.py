"""The request's time in a compiled statement (`Approval.status`, `Approval.waitMs`): a
parameter bound when the statement runs, so that one cached statement serves every request,
as the resolvers read the clock when they answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, DateTime, bindparam

NOW: BindParameter[datetime] = bindparam("now", type_=DateTime(timezone=True))


def parameters(now: datetime) -> dict[str, Any]:
    """The value of `NOW` for a request answered at `now`."""
    return {NOW.key: now}
