"""Numbers and dates in text: the patterns that find them and the quantities a text states."""

from __future__ import annotations

import re
from functools import lru_cache

MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens)\b",
    re.IGNORECASE,
)
DATE = re.compile(
    r"\b(?:1\d\d\d|20\d\d)s?\b|\b\d[\d,]*\s?(?:BC|BCE|AD|CE|BP)\b|\b(?:AD|CE)\s?\d{1,4}\b|"
    r"\b(?:" + "|".join(MONTHS) + r")\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|week|month|year|century|decade|era|period|reign|dynasty|during)\b",
    re.IGNORECASE,
)

# "July 22" and "22 July": the day of a date, not a quantity.
_MONTH = "(?:" + "|".join(MONTHS) + ")"
DAY_OF_MONTH = re.compile(
    rf"\b{_MONTH}\.? \d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\b", re.IGNORECASE
)


@lru_cache(maxsize=65536)  # per question, every candidate sentence asks for the question's numbers too
def numbers(text: str) -> frozenset[str]:
    """The quantities a text states, normalised ("2,500" → "2500"); days of dates left out."""
    # "one" is mostly a pronoun ("one of the most…"), not a quantity.
    text = DAY_OF_MONTH.sub(" ", text)
    found = {m.group(0).replace(",", "").rstrip(".").lower() for m in NUMBER.finditer(text)}
    return frozenset(found - {"one"})
