"""A question as people type it, tidied for retrieval and the reader, and its content terms and names."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from newsqa.index.text.names import entities
from newsqa.index.text.terms import stems

# Words that shape a question but are not its subject.
QUESTION_STEMS = frozenset(
    stems(
        "what which who whom whose when where why how many much does did do is are was were "
        "has have had can could would should will say said tell current currently according"
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
    terms: tuple[str, ...]  # content stems, question words removed
    entities: tuple[str, ...]  # lower-cased key names as written ("iraq", "sean parnell")


# Phrases that frame a question rather than name its subject.
_FRAMES = re.compile(
    r"\b(take|takes|took|taking|taken) place\b|\baccording to\b|\bwhat happened\b|\bwhat is the name of\b",
    re.IGNORECASE,
)


def analyse(text: str) -> Question:
    terms = tuple(t for t in stems(_FRAMES.sub(" ", text)) if t not in QUESTION_STEMS)
    return Question(text=text, terms=terms, entities=entities(text))
