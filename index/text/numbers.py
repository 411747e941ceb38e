"""Numbers in text: the pattern that finds them and the numbers a text states, normalised."""

from __future__ import annotations

import re
from functools import lru_cache

# The number words newsqa reads, with their digits (scales have none: "hundred" stays a word).
NUMBER_WORDS: dict[str, str | None] = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "dozen": "12",
    "hundred": None,
    "thousand": None,
    "million": None,
    "billion": None,
}
# Plural scales, read as their singular ("hundreds" → "hundred", "dozens" → "dozen").
PLURAL_SCALES = {"hundreds": "hundred", "thousands": "thousand", "millions": "million", "dozens": "dozen"}
NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:" + "|".join([*NUMBER_WORDS, *PLURAL_SCALES]) + r")\b", re.IGNORECASE
)
_DIGITS = {word: digits for word, digits in NUMBER_WORDS.items() if digits is not None}
_WHOLE = re.compile(r"\d+\.0+")


@lru_cache(maxsize=65536)
def numbers(text: str) -> frozenset[str]:
    """The numbers a text states, normalised for comparing a claim with its source, which may spell
    them otherwise: "2,500" → "2500", number words as digits ("three" → "3"), plural scales as
    singular ("hundreds" → "hundred") and "2.0" as "2"."""
    found = set()
    for match in NUMBER.finditer(text):
        token = match.group(0).replace(",", "").rstrip(".").lower()
        token = _DIGITS.get(token, PLURAL_SCALES.get(token, token))
        if _WHOLE.fullmatch(token):
            token = token.split(".")[0]
        found.add(token)
    return frozenset(found)
