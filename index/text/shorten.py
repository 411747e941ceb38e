"""Cutting text down to a length at a word boundary."""

from __future__ import annotations


def shorten(text: str, limit: int, *, ellipsis: str = "…", strip: str = "") -> str:
    """`text` when it has at most `limit` characters; else its first `limit` cut back to the last whole
    word, with trailing `strip` characters (e.g. ",;:") removed and `ellipsis` added."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(strip) + ellipsis
