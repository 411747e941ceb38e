"""Follow-ups read in the context of a chat's recent turns, without an LLM.

`resolve(message, turns)` returns the message rewritten to stand on its own, or None when it already
does (a new topic). Three kinds of follow-up are read, in this order:

- a question without a subject ("why?", "since when?"): the last question asked with that word;
- an ellipsis ("and in Iraq?", "what about France?", "and the year before?"): the last question with
  the new place, person, year or phrase in place of the old one;
- pronouns (he, she, they, it, there, then, that and their possessives): replaced by what the recent
  turns name of that kind: a person, a group ("US troops"), a thing ("the withdrawal timetable"), a
  place, a date (`pronouns.replace_pronouns`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newsqa.index.answering.pronouns import people_of, replace_pronouns
from newsqa.index.answering.referents import (
    AUX,
    DATE_PHRASE,
    PREPOSITIONS,
    Turn,
    cased,
    find_phrase,
    is_place,
    locative,
    noun_phrases,
    places_in,
)
from newsqa.index.text.numbers import YEAR

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
_YEAR_SHIFT = re.compile(
    r"^(?:in\s+)?(?:the\s+|a\s+)?(?:(year|one)\s+(before|earlier|prior|after|later)|"
    r"(previous|prior|next|following)\s+year|(last)\s+year)$",
    re.IGNORECASE,
)


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
        rewritten = _fragments(turns[-1], bare)
    if rewritten is None:
        rewritten = replace_pronouns(body, turns)
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
        moved = re.match(rf"^(.+?)\s+({AUX})\b(.*)$", rest, re.IGNORECASE)
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
    later = (match.group(2) or match.group(3) or "").lower() in ("after", "later", "next", "following")
    delta = 1 if later else -1
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


def _fragments(turn: Turn, bare: str) -> str:
    """ "and in Baghdad in 2020?": each prepositional part replaces its own part of the last question."""
    parts = re.split(rf"\s+(?=(?:{PREPOSITIONS})\s)", bare, flags=re.IGNORECASE)
    if len(parts) == 1 or not all(re.match(rf"(?:{PREPOSITIONS})\s", p, re.IGNORECASE) for p in parts):
        return _fragment(turn, bare)
    question = turn.question
    for part in parts:
        question = _fragment(Turn(question, turn.answer, turn.at), part)
    return question


def _fragment(turn: Turn, bare: str) -> str:
    """ "in Germany" / "France" / "Lloyd Austin" / "to conclude": the last question, that part replaced."""
    question = turn.question.rstrip("?!. ")
    first, _, phrase = bare.partition(" ")
    phrase = cased(phrase)
    if re.fullmatch(PREPOSITIONS, first, re.IGNORECASE) and phrase:
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
            where = locative(question, places)
            return _replace(question, (where[1], where[1] + len(where[0])), bare)
        return f"{question} in {bare}"
    people = people_of(turn)
    if people and len(bare.split()) <= 4 and not bare.lower().startswith("the "):
        span = find_phrase(question, people[0])
        if span:
            return _replace(question, span, bare)
    things = [p for p, _ in noun_phrases(question) if p.lower().startswith("the ")]
    if bare.lower().startswith("the ") and things:
        span = find_phrase(question, things[-1])
        if span:
            return _replace(question, span, bare)
    return f"{question} {bare}"


def _names_kind_clash(old: str, new: str) -> bool:
    """ "in Iraq" → "in 2020": a place does not replace a year, nor the other way round."""
    return bool(YEAR.search(new)) != bool(YEAR.search(old)) and (is_place(new) or bool(YEAR.search(old)))


def _replace(text: str, span: tuple[int, int], new: str) -> str:
    return f"{text[: span[0]]}{new}{text[span[1] :]}"
