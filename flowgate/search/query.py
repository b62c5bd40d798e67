"""The query syntax, parsed once and translated by each backend.

    refund policy            every word must match (stemmed: "refunds" finds "refund")
    "rate limit exceeded"    a phrase: these words, in this order
    -archived  -"dry run"    nothing that matches this word or phrase
    classif                  the last word, while typing, also matches as a prefix

Text is split into words on anything that is not a letter or a digit, here and in both
backends' analyzers, so `gpt-4o` and `step_3` mean the same thing everywhere: the phrase
"gpt 4o", the phrase "step 3"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_QUERY_LENGTH: Final = 200
MAX_TERMS: Final = 16

# A term: an optional `-`, then a quoted phrase (an unclosed quote runs to the end) or a word.
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
_WORD = re.compile(r"[^\W_]+")


class QuerySyntaxError(ValueError):
    """The query cannot be searched for; the message says why, for people."""


@dataclass(frozen=True)
class ParsedQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # each a space-separated run of words
    excluded: tuple[str, ...] = ()  # words or phrases
    prefix: str | None = None  # lowercase

    @property
    def positive_terms(self) -> tuple[str, ...]:
        """Everything that must match, as text: what highlights mark."""
        return (*self.words, *self.phrases, *((self.prefix,) if self.prefix else ()))


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def normalize(text: str) -> str:
    """Text as both backends index it: words separated by single spaces."""
    return " ".join(words_of(text))


def parse(text: str) -> ParsedQuery:
    """Parse a query; raises QuerySyntaxError for one that cannot match anything."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"must be at most {MAX_QUERY_LENGTH} characters")
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    prefix: str | None = None
    # The last bare word is being typed unless a space follows it.
    typing = bool(text) and not text[-1].isspace()
    matches = list(_TERM.finditer(text))
    for index, match in enumerate(matches):
        negated, quoted, bare = match.group(1) == "-", match.group(2), match.group(3)
        parts = words_of(quoted if quoted is not None else bare)
        if not parts:
            continue
        if negated:
            excluded.append(" ".join(parts))
        elif quoted is not None or len(parts) > 1:
            phrases.append(" ".join(parts))
        elif typing and index == len(matches) - 1:
            prefix = parts[0].lower()
        else:
            words.append(parts[0])
    if len(words) + len(phrases) + len(excluded) + (prefix is not None) > MAX_TERMS:
        raise QuerySyntaxError(f"must have at most {MAX_TERMS} words, phrases and exclusions")
    if not (words or phrases or prefix):
        raise QuerySyntaxError("needs at least one word to look for (exclusions alone match all)")
    return ParsedQuery(tuple(words), tuple(phrases), tuple(excluded), prefix)
