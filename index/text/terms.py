"""Content terms: lower-cased, stop-word-free English Snowball stems (what BM25 and answering compare)."""

from __future__ import annotations

import re
from functools import lru_cache

import bm25s
import Stemmer

from newsqa.index.text.normalise import normalise

_WORD = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


@lru_cache(maxsize=1)
def stemmer() -> Stemmer.Stemmer:
    """The English Snowball stemmer, shared."""
    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    """Lower-cased, stop-word-free Snowball stems of `text`, in order."""
    words = [w.lower() for w in _WORD.findall(normalise(text))]
    words = [w for w in words if w not in _STOPWORDS]
    return stemmer().stemWords(words)


# Words news questions use for what articles say otherwise ("soldiers" where the article says
# "troops"), as stems. A sentence's coverage of a question credits a synonym in part (answering
# only: retrieval's BM25 index keeps the words as written; the dense side already matches them).
# Kept to words that mean the same in news text.
SYNONYMS = (
    ("soldier", "troop"),
    ("film", "movi"),
    ("sack", "fire", "dismiss"),
    ("buy", "bought", "purchas"),
)
_SAME = {stem: group for group in SYNONYMS for stem in group}


def synonyms(stem: str) -> frozenset[str]:
    """The other stems of `stem`'s SYNONYMS group (none for most)."""
    return frozenset(_SAME.get(stem, ())) - {stem}
