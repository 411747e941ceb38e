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
