"""Which status may follow which."""

from __future__ import annotations

from models.enums import ExecutionStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    # A run may wait for a person before its first step (a human node first).
    S.PENDING: frozenset({S.RUNNING, S.PAUSED, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.PAUSED, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.PAUSED: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}


def can_transition(current: S, new: S) -> bool:
    return new in TRANSITIONS[current]
