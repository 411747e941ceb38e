"""Spellings folded before text is compared: acronyms, thousands separators, case and diacritics."""

from __future__ import annotations

import re
import unicodedata

_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def normalise(text: str) -> str:
    """Fold spellings that tokenizers split badly: "U.S." → "US", "2,500" → "2500"."""
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    return _THOUSANDS.sub("", text)


def fold(text: str) -> str:
    """Lower-case, drop diacritics ("Gospić" → "gospic"), normalise acronyms and numbers."""
    decomposed = unicodedata.normalize("NFKD", normalise(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
