"""A file attached to a message, as `startConversation` and `postMessage` receive it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class AttachmentDraft:
    """A file's metadata, unchecked; once checked, the columns of its `Attachment` row."""

    name: str
    media_type: str
    size: int
    checksum: str
    storage_url: str
