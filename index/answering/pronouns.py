"""Pronouns of a follow-up (he, she, they, it, there, then, that and their possessives) replaced by
what the conversation's most recent turn naming that kind of thing names: a person, a group
("US troops"), a thing ("the withdrawal timetable"), a place or a date."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from newsqa.index.answering.question import question_kind
from newsqa.index.answering.referents import (
    AUX,
    DATE_PHRASE,
    LOCATIVE,
    Turn,
    canonical_place,
    cased,
    find_phrase,
    locative,
    noun_phrases,
    people_in,
    places_in,
    title_words,
)

_PRONOUN = re.compile(
    r"\b(he|she|him|his|her|they|them|their|it|its|there|then|that)\b(?!['’-]\w)", re.IGNORECASE
)
_VERBISH = frozenset(
    f"{AUX.replace('|', ' ')} be been 's happen happened happens mean means take took cause caused "
    "lead led start started end ended matter change changed".split()
)
_SPEECH_VERB = (
    r"\s+(?:say|says|said|think|thinks|claim|claims|believe|believes|report|reports|announce\w*|confirm\w*)\b"
)
_EXISTENTIAL = frozenset("is are was were be been 's any seems will has have had".split())


def replace_pronouns(body: str, turns: Sequence[Turn]) -> str | None:
    """Each pronoun replaced by what the most recent turn naming that kind of thing names."""
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(1).lower()
        before = body[: match.start()].rstrip().split(" ")[-1].lower() if match.start() else ""
        after = re.match(r"\s*([\w']+)", body[match.end() :])
        following = after.group(1).lower() if after else ""
        referent = _referent(word, before, following, turns)
        if referent is None:
            return match.group(0)
        changed = True
        return referent

    rewritten = _PRONOUN.sub(replace, body)
    return rewritten if changed else None


def _referent(word: str, before: str, following: str, turns: Sequence[Turn]) -> str | None:
    """What `word` (with its neighbours) stands for in `turns`, as it should be written, or None."""
    possessive = word in ("his", "its", "their") or (word == "her" and following not in ("", "?"))
    finder: Callable[[Turn], str | None]
    if word in ("he", "she", "him", "his", "her"):
        finder = _person
    elif word in ("they", "them", "their"):
        finder = _group
    elif word == "there":
        if following in _EXISTENTIAL or before in _EXISTENTIAL:
            return None
        finder = _place
    elif word == "then":
        if following and before not in ("around", "since", "until", "before", "after", "by", "back"):
            return None
        finder = _date
    elif word == "that":
        if following and following not in _VERBISH:
            return None  # "that" as a determiner or conjunction
        finder = _event
    else:
        if re.match(r"(?:is|was|'s)$", following) and before in ("", "is", "was"):
            return None
        finder = _thing
    found = next((r for r in (finder(t) for t in reversed(turns)) if r), None)
    if found is None:
        return None
    found = cased(found)
    if word == "there":
        return found if LOCATIVE.search(before + " ") else f"in {found}"
    if word == "then":
        return found if before in ("around", "since", "until", "before", "after", "by") else f"in {found}"
    if possessive:
        return f"{found}'" if found.endswith("s") else f"{found}'s"
    return found


def people_of(turn: Turn) -> list[str]:
    """The people a turn is about: those its question names, else the one its answer gives."""
    question_words = title_words(turn.question)
    named = [p.name for p in people_in(turn.question)]
    in_answer = people_in(turn.answer)
    low = turn.question.lower()
    named += [p.name for p in in_answer if p.name not in named and find_phrase(low, p.name.lower())]
    if named:
        return named

    def near(person_at: int) -> int:
        window = turn.answer[max(0, person_at - 80) : person_at + 80]
        return len(title_words(window) & question_words)

    return [p.name for p in sorted(in_answer, key=lambda p: -near(p.start))]


def _person(turn: Turn) -> str | None:
    people = people_of(turn)
    return people[0] if people else None


def _group(turn: Turn) -> str | None:
    if question_kind(turn.question) == "person":  # "who launched the attacks?" → "they": the answer's
        asked = title_words(turn.question)
        given = [p for p, is_plural in noun_phrases(_strip_markers(turn.answer)) if is_plural]
        new = [p for p in given if not title_words(p) & asked]
        if new:
            return new[0]
    plural = [p for p, is_plural in noun_phrases(turn.question) if is_plural]
    if plural:
        return plural[0]
    return _thing(turn)


def _strip_markers(answer: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", answer)


def _thing(turn: Turn) -> str | None:
    things = [
        p
        for p, is_plural in noun_phrases(turn.question)
        if not is_plural and p.lower().startswith("the ") and not _speaks(turn.question, p)
    ]
    if things:
        return things[0]
    names = [m.group(0) for m in re.finditer(r"\b[A-Z]{2,}s?\b", turn.question)]
    places = [p for p, _ in places_in(turn.question) if p.lower() not in ("us", "usa", "u.s.")]
    found = names or places
    return found[0] if found else None


def _speaks(question: str, phrase: str) -> bool:
    """ "the pentagon say the reduction reflects": the speaker is not what "it" refers to."""
    return bool(re.search(re.escape(phrase) + _SPEECH_VERB, question, re.IGNORECASE))


def _place(turn: Turn) -> str | None:
    if question_kind(turn.question) == "place":
        asked = {canonical_place(p) for p, _ in places_in(turn.question)}
        new = [p for p, _ in places_in(turn.answer) if canonical_place(p) not in asked and p[:1].isupper()]
        if new:
            return new[0]
    places = places_in(turn.question)
    return locative(turn.question, places)[0] if places else None


def _date(turn: Turn) -> str | None:
    if question_kind(turn.question) == "date":
        found = [m.group(0) for m in DATE_PHRASE.finditer(turn.answer) if re.search(r"\d", m.group(0))]
        if found:
            return found[0]
    found = [m.group(0) for m in DATE_PHRASE.finditer(turn.question) if re.search(r"\d", m.group(0))]
    return found[-1] if found else None


def _event(turn: Turn) -> str | None:
    """ "that" after a "when" question is the date it gave; otherwise what the last question was about."""
    if question_kind(turn.question) == "date":
        return _date(turn) or _thing(turn)
    return _thing(turn) or _person(turn)
