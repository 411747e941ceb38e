"""Numbers and dates in text: the patterns that find them and the quantities a text states."""

from __future__ import annotations

import re
from functools import lru_cache

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
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
DATE = re.compile(
    r"\b(?:1\d\d\d|20\d\d)s?\b|\b\d[\d,]*\s?(?:BC|BCE|AD|CE|BP)\b|\b(?:AD|CE)\s?\d{1,4}\b|"
    r"\b(?:" + "|".join(MONTHS) + r")\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|week|month|year|century|decade|era|period|reign|dynasty|during)\b",
    re.IGNORECASE,
)

YEAR = re.compile(r"\b(?:1[6-9]|20)\d\d\b")  # "until 2026" is a date, not a count

# "July 22" and "22 July": the day of a date, not a quantity.
_MONTH = "(?:" + "|".join(MONTHS) + ")"
DAY_OF_MONTH = re.compile(
    rf"\b{_MONTH}\.? \d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\b", re.IGNORECASE
)


@lru_cache(maxsize=65536)  # per question, every candidate sentence asks for the question's numbers too
def numbers(text: str, *, quantities_only: bool = True, as_digits: bool = False) -> frozenset[str]:
    """The numbers a text states, normalised: "2,500" → "2500", lower-cased, no trailing period.

    `quantities_only` (answering: what a sentence counts) leaves out days of dates ("July 22") and
    "one", mostly a pronoun ("one of the most…"). `as_digits` (verifying an LLM's claim against its
    source, which may spell the number otherwise) writes number words as digits ("three" → "3"),
    plural scales as singular ("hundreds" → "hundred") and "2.0" as "2".
    """
    if quantities_only:
        text = DAY_OF_MONTH.sub(" ", text)
    found = set()
    for match in NUMBER.finditer(text):
        token = match.group(0).replace(",", "").rstrip(".").lower()
        if as_digits:
            token = _DIGITS.get(token, PLURAL_SCALES.get(token, token))
            if _WHOLE.fullmatch(token):
                token = token.split(".")[0]
        found.add(token)
    if quantities_only:
        found.discard("one")
    return frozenset(found)
