"""What a question asks for: its expected answer type, its content terms and its key entities."""

from __future__ import annotations

import re
import unicodedata
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
    "tv": ("tv", "television"),
    "uae": ("uae", "united arab emirates", "emirates"),
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
    """Capitalised names and acronyms, runs of them joined ("Sean Parnell"), lower-cased.

    A lone capitalised first word is just the start of the sentence ("Along with…", "Survival…"),
    unless it is an acronym.
    """
    text = normalise(text)
    runs: list[list[tuple[str, int]]] = []
    last_end = -1
    for match in _CAPITALISED.finditer(text):
        word = match.group(0)
        if word.lower() in _WH and not word.isupper():
            last_end = -1
            continue
        if runs and last_end >= 0 and text[last_end : match.start()].strip() == "":
            runs[-1].append((word, match.start()))
        else:
            runs.append([(word, match.start())])
        last_end = match.end()
    cleaned: list[str] = []
    for run in runs:
        first_word, start = run[0]
        if start == 0 and len(run) == 1 and not first_word.isupper():
            continue
        name = re.sub(r"['’]s$", "", " ".join(w for w, _ in run))
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


def fold(text: str) -> str:
    """Lower-case, drop diacritics ("Gospić" → "gospic"), normalise acronyms and numbers."""
    decomposed = unicodedata.normalize("NFKD", normalise(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def mentions(folded_text: str, name: str) -> bool:
    """Whether a folded text mentions `name`, allowing Iraq/Iraqi, Japan/Japanese, Russia/Russian."""
    for form in _word_forms(fold(name)):
        words = form.split()
        if len(words) > 1:
            if re.search(r"\b" + r"\s+".join(map(re.escape, words)), folded_text):
                return True
            continue
        if len(form) < 5:
            pattern = r"\b" + re.escape(form) + (r"\w{0,3}\b" if len(form) == 4 else r"\b")
            if re.search(pattern, folded_text):
                return True
            continue
        stem = form[: max(5, len(form) - 3)]
        for match in re.finditer(r"\b" + re.escape(stem) + r"\w*", folded_text):
            if abs(len(match.group(0)) - len(form)) <= 4:
                return True
    return False


def name_parts_mentioned(text_lower_normalised: str, name: str) -> bool:
    """A multi-word name counts as mentioned when its last word is (a surname, "Parnell")."""
    if mentions(text_lower_normalised, name):
        return True
    parts = name.split()
    return len(parts) > 1 and mentions(text_lower_normalised, parts[-1])
