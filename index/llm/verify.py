"""Citation verification of an LLM answer: only the sentences their cited passages support survive.

A sentence of the LLM's answer is kept when
- it cites at least one source, and every `[n]` it cites is a source the LLM was given;
- every number in it ("2,500", "three") appears in a cited source (title, date or passage);
- every name in it (capitalised words and acronyms, bar a lone first word) is mentioned there;
- at least MIN_OVERLAP of its content words (stems) occur in the cited sources.
Kept sentences have their markers renumbered 1..m in order of first citation, so the answer's
`[n]` always matches `citations[n-1]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from newsqa.index.text.names import entities, name_parts_mentioned
from newsqa.index.text.normalise import normalise
from newsqa.index.text.numbers import numbers
from newsqa.index.text.sentences import split_sentences
from newsqa.index.text.terms import stems

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)\s*")
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Verified:
    """The supported part of an LLM answer."""

    text: str  # kept sentences, markers renumbered
    cited: list[int] = field(default_factory=list)  # original source numbers; new [i+1] is cited[i]
    kept: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why)

    @property
    def fully_verified(self) -> bool:
        return self.kept > 0 and not self.dropped


def _numbers(text: str) -> frozenset[str]:
    """Numbers spelt one way ("three" → "3"), every one kept: a claim may spell its source's otherwise."""
    return numbers(text, quantities_only=False, as_digits=True)


def markers(sentence: str) -> list[int]:
    """The source numbers a sentence cites, in order."""
    return [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def _names(claim: str) -> list[str]:
    found = list(entities(claim))
    first = re.match(r"\W*([A-Z][\w'’-]*)", claim)
    if found and first and found[0] == first.group(1).lower():
        found = found[1:]  # a capitalised first word may just start the sentence
    return found


def _named(support_lower: str, name: str) -> bool:
    return name_parts_mentioned(support_lower, name) or all(
        name_parts_mentioned(support_lower, word) for word in name.split()
    )


def check(sentence: str, sources: Mapping[int, str]) -> str | None:
    """Why `sentence` is not supported by the sources it cites, or None when it is."""
    cited = markers(sentence)
    if not cited:
        return "cites no source"
    unknown = [n for n in cited if n not in sources]
    if unknown:
        return f"cites [{unknown[0]}], which was not given"
    claim = MARKER.sub("", sentence).strip()
    support = "\n".join(sources[n] for n in dict.fromkeys(cited))
    missing_numbers = _numbers(claim) - _numbers(support)
    if missing_numbers:
        return f"the number {sorted(missing_numbers)[0]} is not in the cited source"
    support_lower = normalise(support).lower()
    for name in _names(claim):
        if not _named(support_lower, name):
            return f"the name {name!r} is not in the cited source"
    claim_stems = set(stems(claim))
    if not claim_stems:
        return "says nothing"
    overlap = len(claim_stems & set(stems(support))) / len(claim_stems)
    if overlap < MIN_OVERLAP:
        return f"only {overlap:.0%} of its words are in the cited source"
    return None


def sentences(text: str) -> list[str]:
    """The answer's sentences, each with its markers ("… Iraq. [1] The …": the [1] is Iraq's)."""
    out: list[str] = []
    for piece in split_sentences(text):
        leading = _LEADING_MARKERS.match(piece)
        if leading and out:
            out[-1] = f"{out[-1]} {leading.group(1).strip()}"
            piece = piece[leading.end() :]
        if piece.strip():
            out.append(piece.strip())
    return out


def verify(text: str, sources: Mapping[int, str], max_sources: int | None = None) -> Verified:
    """Keep the sentences of `text` that `sources` (number → what the LLM was shown) support.

    With `max_sources`, a supported sentence that would bring the answer past that many cited
    sources is left out too (for room, not counted as dropped).
    """
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    order: dict[int, int] = {}
    for sentence in sentences(text):
        why = check(sentence, sources)
        if why is not None:
            dropped.append((sentence, why))
            continue
        new = [n for n in dict.fromkeys(markers(sentence)) if n not in order]
        if max_sources is not None and len(order) + len(new) > max_sources:
            continue
        for n in new:
            order[n] = len(order) + 1
        kept.append(sentence)
    renumbered = [_renumber(s, order) for s in kept]
    return Verified(" ".join(renumbered), list(order), len(kept), dropped)


def _renumber(sentence: str, order: Mapping[int, int]) -> str:
    marks = " ".join(f"[{order[n]}]" for n in dict.fromkeys(markers(sentence)))
    return f"{MARKER.sub('', sentence).strip()} {marks}"
