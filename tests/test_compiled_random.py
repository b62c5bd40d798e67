"""Compiled execution equals the resolvers on 510 seeded random operations (selections,
aliases, fragments, arguments, filters, orders, pages, cursors, variables; `node(id)`, the
MongoDB fields flowchart, steps, workflow and progress, `stats`, approvals, conversations
and projects, messages (paged both ways), last messages, branches and project agents too),
85 as each seeded role of both organizations. Reproduce one with its seed:
`operation(Random(SEED + n), ...)` needs the pools learnt from the operations before it, so
rerun the module."""

from __future__ import annotations

import random
import re

import pytest

from models.sql import base
from tests.compiled import (
    ROLES,
    Pair,
    prepared_answers,
)
from tests.compiled_operations import Pools, operation

SEED = 1616
# The compiled MongoDB fields (`schema.compiled.documents`).
DOCUMENTS = re.compile(r"\b(flowchart|steps|workflow|progress)\b")
# The conversation domain's compiled fields (`schema.compiled.bind`).
CONVERSATIONS = re.compile(r"\b(conversations?|projects?)\b")
PER_ROLE = 85


@pytest.mark.parametrize("email", ROLES)
async def test_random_operations(
    users: dict[str, Pair], email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock both paths read, pinned: a pending approval's `waitMs` is the same to both.
    now = base.utcnow()
    monkeypatch.setattr(base, "utcnow", lambda: now)
    pair, pools = users[email], Pools()
    compiled_roots = with_documents = with_conversations = 0
    answered_before = prepared_answers()
    for n in range(PER_ROLE):
        rng = random.Random(f"{SEED}-{email}-{n}")
        generated = operation(rng, pools)
        answer = await pair.check(generated.query, generated.variables, roots=generated.roots)
        pools.learn(answer.body.get("data"))
        # A compiled root field is one statement (and, for a member reading executions, the
        # one lookup of the workflows they may read; one query per MongoDB collection).
        compiled = answer.round_trips.get("sql") == 1 and answer.round_trips.get("mongo", 0) <= (
            int(not email.startswith("admin@")) + len(DOCUMENTS.findall(generated.query))
        )
        compiled_roots += compiled
        with_documents += compiled and bool(DOCUMENTS.search(generated.query))
        with_conversations += compiled and bool(CONVERSATIONS.search(generated.query))
    # Not vacuous: many operations did run compiled, MongoDB fields and all.
    assert compiled_roots > PER_ROLE // 4
    assert with_documents > PER_ROLE // 10
    assert with_conversations > PER_ROLE // 20
    # And the prepared path answered many a second asking (`Pair.check` asks twice): those
    # answered fully compiled without an error.
    assert prepared_answers() - answered_before > PER_ROLE // 5
