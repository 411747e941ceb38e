"""Names in text: capitalised names and acronyms, and whether a text mentions a name (aliases, one typo)."""

from __future__ import annotations

import re
from functools import lru_cache

from newsqa.index.text.normalise import fold, normalise

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
    "ww": ("ww", "world war"),
    "wwi": ("wwi", "world war i", "world war 1", "first world war", "great war"),
    "wwii": ("wwii", "world war ii", "world war 2", "second world war"),
    "uae": ("uae", "united arab emirates", "emirates"),
}


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


def _word_forms(name: str) -> tuple[str, ...]:
    return ALIASES.get(name, (name,))


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


@lru_cache(maxsize=4096)
def _words(folded_text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", folded_text))


def inner_edits(word: str) -> set[str]:
    """Every string one edit from `word` inside it: a letter inserted, dropped, changed or swapped with
    its neighbour, never the first letter nor at the end (an added or dropped ending is inflection)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out: set[str] = set()
    for i in range(1, len(word)):
        head, tail = word[:i], word[i:]
        out.update(head + c + tail for c in letters)  # inserted before the i-th letter
        if len(tail) > 1:  # the i-th letter dropped, changed or swapped, the last one kept
            out.add(head + tail[1:])
            out.update(head + c + tail[1:] for c in letters)
            out.add(head + tail[1] + tail[0] + tail[2:])
    out.discard(word)
    return out


def one_edit_apart(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours inside the word ("Zeria"/"Zeira")."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return i < len(short) and short[i:] == long[i + 1 :]  # an added ending is inflection, not a typo


def misspelt_mention(folded_text: str, name: str) -> bool:
    """Whether the text names `name` up to one typo in a long word ("Sheeshanks" for "Sheepshanks").

    Words under five letters never match this way (Iran is not Iraq)."""
    word = fold(name).split()[-1] if name.strip() else ""
    if len(word) < 5:
        return False
    return any(
        w[0] == word[0] and one_edit_apart(w, word)
        for w in _words(folded_text)
        if abs(len(w) - len(word)) <= 1
    )
