"""The Elasticsearch index: analyzers and mappings, explicit (`dynamic: strict`).

The analyzers split and stem text as the PostgreSQL backend does, so one contract holds for
both: words are runs of letters and digits, lowercased; `english_words` drops PostgreSQL's
English stop words and stems with Snowball English (PostgreSQL's `english_stem`);
`plain_words` keeps words as they are, for prefix matching of the word being typed."""

from __future__ import annotations

from typing import Any, Final

# PostgreSQL's `tsearch_data/english.stop`, which its `english` configuration uses.
_STOP_WORDS_TEXT: Final = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did
doing a an the and but if or because as until while of at by for with about against
between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more
most other some such no nor not only own same so than too very s t can will just don
should now
"""
POSTGRES_ENGLISH_STOP_WORDS: Final = _STOP_WORDS_TEXT.split()

SETTINGS: Final[dict[str, Any]] = {
    "analysis": {
        "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "filter": {
            "postgres_english_stop": {"type": "stop", "stopwords": POSTGRES_ENGLISH_STOP_WORDS},
            "snowball_english": {"type": "snowball", "language": "English"},
        },
        "analyzer": {
            "english_words": {
                "type": "custom",
                "tokenizer": "words",
                "filter": ["lowercase", "postgres_english_stop", "snowball_english"],
            },
            "plain_words": {"type": "custom", "tokenizer": "words", "filter": ["lowercase"]},
        },
    },
}

_KEYWORD: Final = {"type": "keyword"}
_COPIED_TEXT: Final = {"type": "text", "analyzer": "english_words", "copy_to": ["all", "all_plain"]}

MAPPINGS: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "key": _KEYWORD,
        "organization_id": _KEYWORD,
        "type": _KEYWORD,
        "object_id": _KEYWORD,
        "parent_id": _KEYWORD,
        "title": _COPIED_TEXT,
        "labels": _COPIED_TEXT,  # tags and category, as words
        "body": _COPIED_TEXT,
        "status": _KEYWORD,
        "category": _KEYWORD,
        "tags": _KEYWORD,
        # `readers` alone cannot say "restricted to nobody": an empty list is no value.
        "restricted": {"type": "boolean"},
        "readers": _KEYWORD,
        "updated_at": {"type": "date"},
        # What queries match: every text field, stemmed and (for prefixes) as written.
        "all": {"type": "text", "analyzer": "english_words"},
        "all_plain": {"type": "text", "analyzer": "plain_words"},
    },
}
