"""What a question asks for: its expected answer type, its content terms and its key entities."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import normalise, stems

# Words that shape a question but are not its subject.
QUESTION_STEMS = frozenset(
    stems(
        "what which who whom whose when where why how many much does did do is are was were "
        "has have had can could would should will say said tell current currently according"
    )
)

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens)\b",
    re.IGNORECASE,
)
DATE = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:" + "|".join(_MONTHS) + r")\b|\b(?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|yesterday|today|week|month|year|century|decade)\b",
    re.IGNORECASE,
)
NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b|\b[A-Z][a-z]{2,}\b")

_CAPITALISED = re.compile(r"\b(?:[A-Z]{2,}s?|[A-Z][\w'’-]*[a-z][\w'’-]*)\b")
_WH = {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "does",
    "did",
    "do",
    "can",
    "could",
    "in",
    "the",
    "and",
    "a",
    "an",
    "on",
    "of",
    "i",
}

ALIASES = {
    "us": ("us", "usa", "united states", "america", "american", "americans", "washington"),
    "usa": ("us", "usa", "united states", "america", "american"),
    "america": ("us", "usa", "united states", "america", "american"),
    "american": ("us", "usa", "united states", "america", "american"),
    "uk": ("uk", "britain", "british", "united kingdom", "england"),
    "britain": ("uk", "britain", "british", "united kingdom"),
    "un": ("un", "united nations"),
    "eu": ("eu", "european union"),
}


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # "number", "date", "person", "place", "reason", "role", "any"
    terms: tuple[str, ...]  # content stems, question words removed
    entities: tuple[str, ...]  # lower-cased key names as written ("iraq", "sean parnell")


def question_kind(text: str) -> str:
    low = text.lower()
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|share|amount)\b", low):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|month|day)\b", low):
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


def entities(text: str) -> tuple[str, ...]:
    """Capitalised names and acronyms, runs of them joined ("Sean Parnell"), lower-cased."""
    text = normalise(text)
    found: list[str] = []
    run: list[str] = []
    last_end = -1
    for match in _CAPITALISED.finditer(text):
        word = match.group(0)
        if word.lower() in _WH and (match.start() == 0 or word.isupper() is False and word.istitle()):
            if word.lower() in _WH:
                if run:
                    found.append(" ".join(run))
                run, last_end = [], -1
                continue
        gap = text[last_end : match.start()] if last_end >= 0 else None
        if run and gap is not None and gap.strip() == "":
            run.append(word)
        else:
            if run:
                found.append(" ".join(run))
            run = [word]
        last_end = match.end()
    if run:
        found.append(" ".join(run))
    cleaned: list[str] = []
    for name in found:
        name = re.sub(r"['’]s$", "", name)
        # "U.S.-Iraq" names two things; "Obama-era" names one.
        for part in re.split(r"-(?=[A-Z])", name):
            part = re.sub(r"-[a-z][\w-]*$", "", part).lower()
            if part and part not in cleaned:
                cleaned.append(part)
    return tuple(cleaned)


# Phrases that frame a question rather than name its subject.
_FRAMES = re.compile(
    r"\b(take|takes|took|taking|taken) place\b|\baccording to\b|\bwhat happened\b|\bwhat is the name of\b",
    re.IGNORECASE,
)


def analyse(text: str) -> Question:
    terms = tuple(t for t in stems(_FRAMES.sub(" ", text)) if t not in QUESTION_STEMS)
    return Question(text=text, kind=question_kind(text), terms=terms, entities=entities(text))


def _word_forms(name: str) -> tuple[str, ...]:
    return ALIASES.get(name, (name,))


def mentions(text_lower_normalised: str, name: str) -> bool:
    """Whether a text (lower-cased, normalised) mentions `name`, allowing Iraq/Iraqi, Syria/Syrian."""
    for form in _word_forms(name):
        words = form.split()
        if len(words) > 1:
            if re.search(r"\b" + r"\s+".join(map(re.escape, words)), text_lower_normalised):
                return True
            continue
        pattern = r"\b" + re.escape(form) + (r"\w{0,3}\b" if len(form) >= 4 else r"\b")
        if re.search(pattern, text_lower_normalised):
            return True
        if len(form) >= 5 and re.search(r"\b" + re.escape(form[:-1]) + r"\b", text_lower_normalised):
            return True  # "Russian" in the question, "Russia" in the text
    return False


def name_parts_mentioned(text_lower_normalised: str, name: str) -> bool:
    """A multi-word name counts as mentioned when its last word is (a surname, "Parnell")."""
    if mentions(text_lower_normalised, name):
        return True
    parts = name.split()
    return len(parts) > 1 and mentions(text_lower_normalised, parts[-1])
