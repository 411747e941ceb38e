"""Follow-ups read in the context of a chat's recent turns, without an LLM.

`resolve(message, turns)` returns the message rewritten to stand on its own, or None when it already
does (a new topic). Three kinds of follow-up are read, in this order:

- a question without a subject ("why?", "since when?"): the last question asked with that word;
- an ellipsis ("and in Iraq?", "what about France?", "and the year before?"): the last question with
  the new place, person, year or phrase in place of the old one;
- pronouns (he, she, they, it, there, then, that and their possessives): replaced by what the recent
  turns name of that kind: a person, a group ("US troops"), a thing ("the withdrawal timetable"), a
  place, a date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsqa.index.answering.question import question_kind
from newsqa.index.answering.referents import (
    DATE_PHRASE,
    canonical_place,
    cased,
    is_place,
    noun_phrases,
    people_in,
    places_in,
    title_words,
)
from newsqa.index.text.numbers import YEAR


@dataclass(frozen=True)
class Turn:
    """One exchange of a chat: the question as answered (resolved) and the answer given."""

    question: str
    answer: str
    at: float


_OPENER = re.compile(
    r"^(?:(?:and|also|so|ok|okay|but|or|then|hmm|now)\b[\s,]*)*"
    r"(?:(?:and\s+)?(?:what|how)\s+about|what\s+of|same\s+(?:question\s+)?for|and)?\b[\s,]*",
    re.IGNORECASE,
)
_WH = (
    r"since when|until when|by when|till when|for how long|how often|where else|who else|how long|"
    r"how come|how so|why not|why so|why|when|where|how|who"
)
_SUBJECTLESS = re.compile(
    rf"^({_WH})(?:\s+(?:is|was|did|does)\s+that(?:\s+happen(?:ed)?)?|\s+exactly|\s+then|\s+though|\s+again)?$",
    re.IGNORECASE,
)
_STARTS_QUESTION = re.compile(
    r"^(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|has|have|had|will|"
    r"would|can|could|should|tell|give|list|explain|describe)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(r"(?:[\s,]+(?:again|too|as well|instead|then|now|please|pls))+$", re.IGNORECASE)
_NOT_A_FRAGMENT = re.compile(r"^(?:thanks?|thank you|ok|okay|cool|great|nice|yes|no|hi|hello|bye)\W*$", re.I)
_PREPOSITIONS = "in|at|for|about|on|with|from|of|to|during|after|before|by|against|under|inside|near"
_YEAR_SHIFT = re.compile(
    r"^(?:in\s+)?(?:the\s+|a\s+)?(?:(year|one)\s+(before|earlier|prior|after|later)|"
    r"(previous|prior|next|following)\s+year|(last)\s+year)$",
    re.IGNORECASE,
)
_AUX = r"are|is|were|was|do|does|did|have|has|had|will|would|can|could|should"
_PRONOUN = re.compile(
    r"\b(he|she|him|his|her|they|them|their|it|its|there|then|that)\b(?!['’-]\w)", re.IGNORECASE
)
_VERBISH = frozenset(
    f"{_AUX.replace('|', ' ')} be been 's happen happened happens mean means take took cause caused "
    "lead led start started end ended matter change changed".split()
)
_EXISTENTIAL = frozenset("is are was were be been 's any seems will has have had".split())
_LOCATIVE = re.compile(rf"\b(?:{_PREPOSITIONS}|into|across|inside|throughout)\s+$", re.IGNORECASE)


def resolve(message: str, turns: Sequence[Turn]) -> str | None:
    """`message` rewritten to stand on its own given `turns` (oldest first), or None if it does."""
    if not turns:
        return None
    text = " ".join(message.split()).strip()
    body = _OPENER.sub("", text, count=1).strip()
    bare = _FILLER.sub("", body.rstrip("?!. ")).strip()
    if not bare or _NOT_A_FRAGMENT.match(bare):
        return None
    last = turns[-1].question
    rewritten = _subjectless(last, bare) or _year_shift(turns[-1], bare)
    if rewritten is None and not _STARTS_QUESTION.match(bare) and (body != text or len(bare.split()) <= 4):
        rewritten = _fragment(turns[-1], bare)
    if rewritten is None:
        rewritten = _pronouns(body, turns)
    if rewritten is None or rewritten.lower().rstrip("?") == text.lower().rstrip("?"):
        return None
    rewritten = cased(rewritten.rstrip("?!. ")) + "?"
    return rewritten[0].upper() + rewritten[1:]


# -- questions without a subject -------------------------------------------------------------------


def _subjectless(last: str, bare: str) -> str | None:
    """ "why?" after "When does Iraq want the timetable to start?" → "Why does Iraq want …"."""
    match = _SUBJECTLESS.match(bare)
    if not match:
        return None
    wh = match.group(1).lower()
    question = last.rstrip("?!. ")
    lead = re.match(
        r"^(how many|how much|how long|what|which|who|whom|whose|when|where|why|how)\b\s*(.*)$",
        question,
        re.IGNORECASE,
    )
    if lead is None:  # a yes/no question or a statement: "why is the US reducing…"
        return f"{wh} {question[:1].lower()}{question[1:]}"
    asked, rest = lead.group(1).lower(), lead.group(2)
    if asked in ("how many", "how much"):
        moved = re.match(rf"^(.+?)\s+({_AUX})\b(.*)$", rest, re.IGNORECASE)
        if moved:
            subject, aux, tail = moved.groups()
            if aux.lower() in ("do", "does", "did", "have", "has", "had"):
                return f"{wh} {aux}{tail} {subject}"
            return f"{wh} {aux} {subject}{tail}"
    return f"{wh} {rest}"


def _year_shift(turn: Turn, bare: str) -> str | None:
    """ "and the year before?" after a question about 2023 → the same question about 2022."""
    match = _YEAR_SHIFT.match(bare)
    if not match:
        return None
    delta = (
        1
        if (match.group(2) or match.group(3) or "").lower() in ("after", "later", "next", "following")
        else -1
    )
    years = list(YEAR.finditer(turn.question))
    if years:
        year = years[-1]
        dated = list(DATE_PHRASE.finditer(turn.question))
        span = next((d.span() for d in dated if d.start() <= year.start() < d.end()), year.span())
        return f"{turn.question[: span[0]]}{int(year.group(0)) + delta}{turn.question[span[1] :]}"
    in_answer = YEAR.search(turn.answer)
    if in_answer:
        return f"{turn.question.rstrip('?!. ')} in {int(in_answer.group(0)) + delta}"
    return None


# -- ellipsis ---------------------------------------------------------------------------------------


def _fragment(turn: Turn, bare: str) -> str | None:
    """ "in Germany" / "France" / "Lloyd Austin" / "to conclude": the last question, that part replaced."""
    question = turn.question.rstrip("?!. ")
    first, _, phrase = bare.partition(" ")
    phrase = cased(phrase)
    if re.fullmatch(_PREPOSITIONS, first, re.IGNORECASE) and phrase:
        same = list(re.finditer(rf"\b{first}\s+", question, re.IGNORECASE))
        if same and not _names_kind_clash(question[same[-1].end() :], phrase):
            return f"{question[: same[-1].start()]}{first} {phrase}"
        bare = phrase
    bare = cased(bare, name=True)
    if YEAR.fullmatch(bare):
        years = list(YEAR.finditer(question))
        if years:
            return _replace(question, years[-1].span(), bare)
        return f"{question} in {bare}"
    if is_place(bare):
        places = places_in(question)
        if places:
            where = _locative(question, places)
            return _replace(question, (where[1], where[1] + len(where[0])), bare)
        return f"{question} in {bare}"
    people = _people_of(turn)
    if people and len(bare.split()) <= 4 and not bare.lower().startswith("the "):
        span = _find(question, people[0])
        if span:
            return _replace(question, span, bare)
    things = [p for p, _ in noun_phrases(question) if p.lower().startswith("the ")]
    if bare.lower().startswith("the ") and things:
        span = _find(question, things[-1])
        if span:
            return _replace(question, span, bare)
    return f"{question} {bare}"


def _names_kind_clash(old: str, new: str) -> bool:
    """ "in Iraq" → "in 2020": a place does not replace a year, nor the other way round."""
    return bool(YEAR.search(new)) != bool(YEAR.search(old)) and (is_place(new) or bool(YEAR.search(old)))


def _locative(question: str, places: list[tuple[str, int]]) -> tuple[str, int]:
    """The place a question is about: the last one after "in"/"from"/"to"…, else the last one."""
    after = [p for p in places if _LOCATIVE.search(question[: p[1]])]
    return (after or places)[-1]


def _replace(text: str, span: tuple[int, int], new: str) -> str:
    return f"{text[: span[0]]}{new}{text[span[1] :]}"


def _find(text: str, phrase: str) -> tuple[int, int] | None:
    match = re.search(r"\b" + re.escape(phrase) + r"\b", text, re.IGNORECASE)
    if match is None and " " in phrase:  # "Parnell" for "Sean Parnell"
        match = re.search(r"\b" + re.escape(phrase.split()[-1]) + r"\b", text, re.IGNORECASE)
    return match.span() if match else None


# -- pronouns ---------------------------------------------------------------------------------------


def _pronouns(body: str, turns: Sequence[Turn]) -> str | None:
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
        return found if _LOCATIVE.search(before + " ") else f"in {found}"
    if word == "then":
        return found if before in ("around", "since", "until", "before", "after", "by") else f"in {found}"
    if possessive:
        return f"{found}'" if found.endswith("s") else f"{found}'s"
    return found


def _people_of(turn: Turn) -> list[str]:
    """The people a turn is about: those its question names, else the one its answer gives."""
    question_words = title_words(turn.question)
    named = [p.name for p in people_in(turn.question)]
    in_answer = people_in(turn.answer)
    low = turn.question.lower()
    named += [p.name for p in in_answer if p.name not in named and _find(low, p.name.lower())]
    if named:
        return named

    def near(person_at: int) -> int:
        window = turn.answer[max(0, person_at - 80) : person_at + 80]
        return len(title_words(window) & question_words)

    return [p.name for p in sorted(in_answer, key=lambda p: -near(p.start))]


def _person(turn: Turn) -> str | None:
    people = _people_of(turn)
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
        p for p, is_plural in noun_phrases(turn.question) if not is_plural and p.lower().startswith("the ")
    ]
    if things:
        return things[0]
    names = [m.group(0) for m in re.finditer(r"\b[A-Z]{2,}s?\b", turn.question)]
    places = [p for p, _ in places_in(turn.question) if p.lower() not in ("us", "usa", "u.s.")]
    found = names or places
    return found[0] if found else None


def _place(turn: Turn) -> str | None:
    if question_kind(turn.question) == "place":
        asked = {canonical_place(p) for p, _ in places_in(turn.question)}
        new = [p for p, _ in places_in(turn.answer) if canonical_place(p) not in asked and p[:1].isupper()]
        if new:
            return new[0]
    places = places_in(turn.question)
    return _locative(turn.question, places)[0] if places else None


def _date(turn: Turn) -> str | None:
    if question_kind(turn.question) == "date":
        found = [m.group(0) for m in DATE_PHRASE.finditer(turn.answer) if re.search(r"\d", m.group(0))]
        if found:
            return found[0]
    found = [m.group(0) for m in DATE_PHRASE.finditer(turn.question) if re.search(r"\d", m.group(0))]
    return found[-1] if found else None


def _event(turn: Turn) -> str | None:
    """ "that" after a "when" question is the date; otherwise what the last question was about."""
    if question_kind(turn.question) == "date":
        return _date(turn)
    return _thing(turn) or _person(turn)
