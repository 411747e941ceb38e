"""What a sentence holds: a quantity, a date, a name, a role or a reason (the kinds a question asks for)."""

from __future__ import annotations

import re
from functools import lru_cache

from index.question import DATE, MONTHS, NAME, NUMBER, Question, fold, mentions

YEAR = re.compile(r"(1[6-9]|20)\d\d")  # "until 2026" is a date, not a count
ROLE_CUES = re.compile(
    r"\b(tasked|task of|responsib\w*|charged with|in charge|advis\w*|train\w*|assist\w*|support\w*|"
    r"protect\w*|ensur\w*|serv\w* as|used (as|to|for)|aim\w* to|help\w*|to (lead|guide|secure|defend))\b",
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


def holds_kind(kind: str, sentence: str, question: Question) -> bool:
    """Whether the sentence holds the kind of thing asked for: a new number, a date, a name…"""
    if kind == "number":
        return bool({n for n in numbers(sentence) if not YEAR.fullmatch(n)} - numbers(question.text))
    if kind == "date":
        return bool(DATE.search(sentence))
    if kind in ("person", "place"):
        asked = fold(question.text)
        return any(
            not mentions(asked, m.group(0).lower())
            for m in NAME.finditer(sentence)
            if m.start() > 0 or " " in m.group(0)  # a lone capitalised first word is just the start
        )
    if kind == "role":
        return bool(ROLE_CUES.search(sentence))
    if kind == "reason":
        return bool(
            re.search(r"\b(because|due to|since|after|so that|in order to|amid|as)\b", sentence, re.I)
        )
    return True
