"""What a question asks for (its expected answer type, content terms and key names), and a question as
people type it, tidied for retrieval and answering."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from newsqa.index.text.names import entities
from newsqa.index.text.numbers import YEAR
from newsqa.index.text.places import countries_in_lower_case
from newsqa.index.text.terms import stems

# Words that shape a question but are not its subject.
QUESTION_STEMS = frozenset(
    stems(
        "what which who whom whose when where why how many much does did do is are was were "
        "has have had can could would should will say said tell current currently according "
        # a question about the present: timeline.asks_present reads it, the evidence needn't say it
        "now nowadays presently"
    )
)


# Chat shorthand → words (whole words only, lower case): "how many soldiers r in iraq" reads as "are".
SHORTHAND = {
    "r": "are",
    "u": "you",
    "ur": "your",
    "y": "why",
    "n": "and",
    "wat": "what",
    "wut": "what",
    "whats": "what is",
    "whos": "who is",
    "wheres": "where is",
    "hows": "how is",
    "rn": "right now",
    "b4": "before",
    "ppl": "people",
    "govt": "government",
    "gov": "government",
    "pls": "please",
    "plz": "please",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "thx": "thanks",
    "w/": "with",
    "w/o": "without",
    "yr": "year",
    "yrs": "years",
    "tho": "though",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "arent": "aren't",
    "wont": "won't",
    "cant": "can't",
}
_SCRIPT = re.compile(r"<(script|style)\b[^>]{0,200}>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]{0,200}>")
_URL = re.compile(r"\b(?:https?://|www\.)\S+|\bt\.me/\S+", re.I)
_MARKDOWN = re.compile(r"(\*\*|__|\*|`+|~~|^#{1,6}\s+|^>\s*)", re.M)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WORD = re.compile(r"(?<![\w.'/])[\w/']+(?![\w'/]|\.\w)")


def tidy(question: str) -> str:
    """`question` without pasted markup or links, and with chat shorthand spelt out."""
    text = html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", question)))
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _MARKDOWN.sub(" ", text)
    text = _WORD.sub(lambda m: SHORTHAND.get(m.group(0).lower(), m.group(0)), text)
    text = " ".join(text.split())
    return text or " ".join(question.split())


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # "number", "date", "person", "place", "reason", "role", "any"
    terms: tuple[str, ...]  # content stems, question words removed
    entities: tuple[str, ...]  # lower-cased key names as written ("iraq", "sean parnell")


# "When rock folds, what does it create?": a leading "when" sets the scene, the later word asks.
# "When did…" asks the time; "…take when seen from outside?" does not: an auxiliary right after
# "when", or "when" last, makes it the question word.
_AUXILIARIES = "did|do|does|is|was|are|were|has|have|had|will|would|can|could|should|shall|might|must"
_SCENE_THEN_ASK = re.compile(
    rf"^(?:when|if|while|once)\s+(?!(?:{_AUXILIARIES})\b).*?\b(what|which|who|whom|whose|where|how)\b(.*)$"
)


def question_kind(text: str) -> str:
    low = text.lower().strip()
    scene = _SCENE_THEN_ASK.match(low)
    if scene:
        low = scene.group(1) + scene.group(2)
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|share|amount)\b", low):
        return "number"
    if re.search(r"\bhow old\b", low):
        return "number"
    asks_when = rf"\bwhen (?:{_AUXILIARIES})\b|\bwhen\W*$"
    if re.search(rf"{asks_when}|\bwhat (year|date|day|month|time)\b|\bwhich (year|month|day)\b", low):
        return "date"
    if re.search(r"\bwho(m|se)?\b", low):
        return "person"
    if re.search(r"\bwhere\b", low):
        return "place"
    if re.search(r"\bwhy\b", low):
        return "reason"
    if re.search(
        r"\bwhat (is|was|are|were|will be) (the )?(main )?(role|purpose|job|mission|task|function)s?\b", low
    ):
        return "role"
    return "any"


# Phrases that frame a question rather than name its subject.
_FRAMES = re.compile(
    r"\b(take|takes|took|taking|taken) place\b|\baccording to\b|\bwhat happened\b|\bwhat is the name of\b"
    r"|\bright now\b|\bat present\b|\bthese days\b",
    re.IGNORECASE,
)


def spelled_as_indexed(question: Question, spelled_like: Callable[[str], str | None]) -> Question:
    """`question` with each term the corpus never uses but spells one letter differently read as the
    corpus spells it ("who is lavrentiev" → lavrentyev): `spelled_like` is LexicalIndex.spelled_like."""
    terms = tuple(spelled_like(t) or t for t in question.terms)
    return question if terms == question.terms else replace(question, terms=terms)


def analyse(text: str, *, follow_up: bool = False) -> Question:
    """What `text` asks for; in a `follow_up` a year is a key name too, one the answer's article must
    state ("and the year before?" moved the question there; a first question's year often goes
    unstated, as in SQuAD's "…in 2015?" over a Super Bowl 50 paragraph)."""
    terms = tuple(t for t in stems(_FRAMES.sub(" ", text)) if t not in QUESTION_STEMS)
    names = entities(text)
    names += tuple(c for c in countries_in_lower_case(text) if not any(c in n for n in names))
    if follow_up:
        names += tuple(y for y in dict.fromkeys(YEAR.findall(text)) if y not in names)
    return Question(text=text, kind=question_kind(text), terms=terms, entities=names)
