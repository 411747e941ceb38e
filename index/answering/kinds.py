"""What a sentence holds: a quantity, a date, a name, a role or a reason (the kinds a question asks for)."""

from __future__ import annotations

import re

from newsqa.index.answering.question import Question
from newsqa.index.text.names import NAME, mentions
from newsqa.index.text.normalise import fold
from newsqa.index.text.numbers import DATE, YEAR, numbers

# "how much of the territory?" is answered by a share, not only by digits: "a third of the territory".
SHARE = re.compile(r"\b(?:a|one|two|three)[ -](?:half|third|quarter|fifth|tenth)s?\b|\bhalf\b", re.IGNORECASE)
# "nearly two years ago" says when, not how many troops: a duration counts only for a question about time.
DURATION = re.compile(
    r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few)\s+"
    r"(?:years?|months?|weeks?|days?|decades?|hours?|minutes?|centuries)\b",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"\b(?:years?|months?|weeks?|days?|decades?|hours?|minutes?|centur\w*|old|age)\b", re.IGNORECASE
)
# "where?" is answered by a kind of place as well as by a name: "in desert and mountainous areas".
TERRAIN = re.compile(
    r"\b(?:in|at|near|across|throughout|along)\s+(?:the\s+)?(?:[a-z]+\s+){0,3}"
    r"(?:areas?|regions?|provinces?|cities|towns?|villages?|countryside|deserts?|mountains?|borders?|coast)\b"
)
REASON_CUES = re.compile(
    r"\b(because|due to|since|after|so that|in order to|amid|as|driven by|prompted|motivated|"
    r"in response to|result of|justification|justif\w+|reasons?)\b",
    re.IGNORECASE,
)
ROLE_CUES = re.compile(
    r"\b(tasked|task of|responsib\w*|charged with|in charge|advis\w*|train\w*|assist\w*|support\w*|"
    r"protect\w*|ensur\w*|serv\w* as|used (as|to|for)|aim\w* to|help\w*|to (lead|guide|secure|defend))\b",
    re.IGNORECASE,
)


def holds_kind(kind: str, sentence: str, question: Question) -> bool:
    """Whether the sentence holds the kind of thing asked for: a new number, a date, a name…"""
    if kind == "number":
        counted = sentence if _ASKS_TIME.search(question.text) else DURATION.sub(" ", sentence)
        new = {n for n in numbers(counted) if not YEAR.fullmatch(n)} - numbers(question.text)
        return bool(new) or bool(SHARE.search(sentence) and not SHARE.search(question.text))
    if kind == "date":
        return bool(DATE.search(sentence))
    if kind == "place" and TERRAIN.search(sentence):
        return True
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
        return bool(REASON_CUES.search(sentence))
    return True
