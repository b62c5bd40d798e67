"""Sizes the conversation mutations accept, and the checks of their values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from resolvers.drafts.attachment import AttachmentDraft
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

MAX_TITLE = 200
MAX_CONTENT = 100_000  # characters of one message
MAX_CHUNK = 20_000  # characters of one reply chunk
MAX_ATTACHMENTS = 20
MAX_TOOL_JSON_BYTES = 64 * 1024
MAX_NAME = 200
# Far above any real reply, and within the columns: a cost is numeric(14, 6), and a
# message's prompt and completion tokens add up in a 32-bit integer.
MAX_COST = 1_000_000.0
MAX_TOKENS = 1_000_000_000


def content(issues: Issues, path: str, value: str) -> str | None:
    """A message's text: not blank, at most `MAX_CONTENT` characters, kept as written."""
    return values.text(issues, path, value, max_length=MAX_CONTENT, required=True, trim=False)


def title(issues: Issues, path: str, value: str | None) -> str | None:
    return values.text(issues, path, value, max_length=MAX_TITLE, required=True)


def optional_text(issues: Issues, path: str, value: str | None, max_length: int) -> str | None:
    if value is None:
        return None
    return values.text(issues, path, value, max_length=max_length)


def non_negative(
    issues: Issues, path: str, value: int | float | None, maximum: float | None = None
) -> None:
    if value is not None and value < 0:
        issues.add(path, IssueCode.OUT_OF_RANGE, f"must not be negative, got {value}")
    elif value is not None and maximum is not None and value > maximum:
        issues.add(path, IssueCode.OUT_OF_RANGE, f"must be at most {maximum:g}, got {value}")


def attachments(issues: Issues, items: Sequence[AttachmentDraft]) -> list[AttachmentDraft]:
    if len(items) > MAX_ATTACHMENTS:
        issues.add(
            "attachments", IssueCode.TOO_MANY, f"at most {MAX_ATTACHMENTS}, got {len(items)}"
        )
        return []
    cleaned = []
    for index, item in enumerate(items):
        path = f"attachments[{index}]"
        name = values.text(issues, f"{path}.name", item.name, max_length=300, required=True)
        media = values.text(
            issues, f"{path}.mediaType", item.media_type, max_length=200, required=True
        )
        checksum = values.text(
            issues, f"{path}.checksum", item.checksum, max_length=200, required=True
        )
        url = values.text(
            issues, f"{path}.storageUrl", item.storage_url, max_length=2000, required=True
        )
        non_negative(issues, f"{path}.size", item.size)
        if name is not None and media is not None and None not in (checksum, url):
            cleaned.append(replace(item, name=name, media_type=media))
    return cleaned
