"""An approval's state rules (expired, open, status, wait) have a Python form and a SQL form
(`models.sql.approval`); PostgreSQL computes the SQL form equal to the Python form, value
for value, at the boundaries (a deadline reached exactly, a wait of a fraction of a
millisecond, a clock behind the request) and over many random times."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, ColumnElement, DateTime, Integer, column, select, values
from sqlalchemy.sql.visitors import replacement_traverse

from flowgate.services import Services
from models.enums import ApprovalDecision, ApprovalStatus
from models.sql import Approval
from tests.approvals import EDGES, NOW


def _random_cases(count: int) -> list[Any]:
    rng = random.Random(1818)
    cases = []
    for _ in range(count):
        requested = NOW - timedelta(microseconds=rng.randint(-(10**6), 10**12))
        expires = (
            requested + timedelta(microseconds=rng.randint(0, 10**11))
            if rng.random() < 0.7
            else None
        )
        decision = rng.choice([None, None, ApprovalDecision.APPROVE, ApprovalDecision.REJECT])
        decided = requested + timedelta(microseconds=rng.randint(0, 10**10)) if decision else None
        cases.append((decision, requested, expires, decided))
    return cases


CASES = EDGES + _random_cases(800)
_TABLE = Approval.__table__


async def _sql_forms(services: Services, now: datetime) -> list[tuple[Any, ...]]:
    """Each case's (expired, status, wait, open) as PostgreSQL computes the SQL forms: the rules'
    columns re-pointed at the rows of a VALUES list."""
    rows = values(
        column("i", Integer),
        column("decision", _TABLE.c.decision.type),
        column("requested_at", DateTime(timezone=True)),
        column("expires_at", DateTime(timezone=True)),
        column("decided_at", DateTime(timezone=True)),
        name="cases",
    ).data([(i, *case) for i, case in enumerate(CASES)])

    def on_rows(element: Any, **_: Any) -> Any:
        if isinstance(element, Column) and element.table is _TABLE:
            return rows.c[element.name]
        return None

    options: dict[str, Any] = {}
    forms: list[ColumnElement[Any]] = [
        Approval.is_expired_sql(now),
        Approval.status_at_sql(now),
        Approval.wait_ms_at_sql(now),
        Approval.is_open_sql(now),
    ]
    on_cases = [replacement_traverse(form, options, on_rows) for form in forms]
    query = select(*on_cases).order_by(rows.c.i)
    async with services.postgres.read_engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(query)).all()]


def _python_forms(now: datetime) -> list[tuple[Any, ...]]:
    approvals = [
        Approval(decision=d, requested_at=r, expires_at=e, decided_at=at) for d, r, e, at in CASES
    ]
    return [
        (
            approval.is_expired(now),
            approval.status_at(now).value,
            approval.wait_ms_at(now),
            approval.is_open(now),
        )
        for approval in approvals
    ]


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(microseconds=1)])
async def test_the_sql_forms_equal_the_python_forms(services: Services, shift: timedelta) -> None:
    # given: the cases, at the time of the boundaries and a microsecond later
    now = NOW + shift

    # when
    in_sql = await _sql_forms(services, now)

    # then: equal, case by case
    in_python = _python_forms(now)
    for case, sql_value, python_value in zip(CASES, in_sql, in_python, strict=True):
        assert sql_value == python_value, case


def test_the_boundaries_are_what_the_rules_say() -> None:
    """Not vacuous: the boundary cases answer what the rules promise, in Python (and so in
    SQL, by the test above)."""
    expected = [
        (True, ApprovalStatus.EXPIRED, 3_600_000 * 2),
        (True, ApprovalStatus.EXPIRED, 3_000),
        (False, ApprovalStatus.PENDING, 3_000),
        (False, ApprovalStatus.PENDING, 1_000),
        (False, ApprovalStatus.PENDING, 0),
        (False, ApprovalStatus.PENDING, 1_000),
        (False, ApprovalStatus.PENDING, 0),
        (False, ApprovalStatus.PENDING, 0),
        (False, ApprovalStatus.APPROVED, 3 * 86_400_000),
        (False, ApprovalStatus.REJECTED, 59_000),
        (False, ApprovalStatus.APPROVED, 0),
    ]
    # ...open exactly while pending
    assert _python_forms(NOW)[: len(EDGES)] == [
        (e, s.value, w, s is ApprovalStatus.PENDING) for e, s, w in expected
    ]
