"""A step's tokens: the total, and its prompt and completion parts when the engine knows them.

One rule for every report: `tokens` is the total. Given with both parts it must be their sum;
left out, it is their sum (a missing part counts 0). Given with one part, the other part is
what the total leaves. Given alone, the step has no split (both parts stay null), so old
engines keep working and a sum over steps never invents a split it was not told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from resolvers.validation.issues import IssueCode, Issues

MAX_TOKENS_PER_STEP: Final = 10_000_000


@dataclass(frozen=True)
class StepTokens:
    total: int = 0
    prompt: int | None = None
    completion: int | None = None


def _in_range(issues: Issues, field: str, value: int | None) -> bool:
    if value is not None and not 0 <= value <= MAX_TOKENS_PER_STEP:
        issues.add(field, IssueCode.OUT_OF_RANGE, f"must be 0..{MAX_TOKENS_PER_STEP}")
        return False
    return True


def step_tokens(
    issues: Issues, tokens: int | None, prompt: int | None, completion: int | None
) -> StepTokens:
    """The step's counts by the rule above; problems go to `issues` (then counts are 0)."""
    valid = [
        _in_range(issues, "step.tokens", tokens),
        _in_range(issues, "step.promptTokens", prompt),
        _in_range(issues, "step.completionTokens", completion),
    ]
    if not all(valid):
        return StepTokens()
    if prompt is None and completion is None:
        return StepTokens(tokens or 0)
    given = (prompt or 0) + (completion or 0)
    if tokens is None:
        # The parts are each in range; their sum, the step's total, must be too.
        return (
            StepTokens(given, prompt or 0, completion or 0)
            if _in_range(issues, "step.tokens", given)
            else StepTokens()
        )
    both = prompt is not None and completion is not None
    if given > tokens or (both and given != tokens):
        expected = f"promptTokens + completionTokens ({given})" if both else f"at least {given}"
        issues.add("step.tokens", IssueCode.INVALID, f"must be {expected}, got {tokens}")
        return StepTokens()
    rest = tokens - given  # the part not given, when one is
    return StepTokens(
        tokens,
        prompt if prompt is not None else rest,
        completion if completion is not None else rest,
    )
