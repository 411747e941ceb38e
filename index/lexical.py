"""Lexical side of retrieval: BM25 (bm25s, Snowball stemmer) and the term statistics answering uses."""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import Tokenizer

# bm25s logs every index build at DEBUG through its own handler level; keep it quiet.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_WORD = re.compile(r"(?u)\b\w\w+\b")


def normalise(text: str) -> str:
    """Fold spellings that tokenizers split badly: "U.S." → "US", "2,500" → "2500"."""
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    return _THOUSANDS.sub("", text)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _new_tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=_stemmer().stemWord, stopwords="en")


class LexicalIndex:
    """BM25 over a fixed list of texts; also knows each stem's document frequency."""

    def __init__(self, texts: list[str]) -> None:
        self._tokenizer = _new_tokenizer()
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            ids = self._tokenizer.tokenize(
                [normalise(t) for t in texts], return_as="ids", show_progress=False
            )
            self._bm25.index(ids, show_progress=False)
            vocab = self._tokenizer.get_vocab_dict()
            df = np.zeros(len(vocab), dtype=np.int32)
            for doc in ids:
                if doc:
                    df[np.unique(np.asarray(doc, dtype=np.int64))] += 1
            self._df = {term: int(df[i]) for term, i in vocab.items()}
        else:
            self._df = {}

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """Top `n` texts for `query`: (position in the input list, BM25 score), best first."""
        if self.size == 0:
            return []
        ids = self._tokenizer.tokenize(
            [normalise(query)], update_vocab=False, return_as="ids", show_progress=False
        )
        if not ids or not ids[0]:
            return []
        k = min(n, self.size)
        docs, scores = self._bm25.retrieve(ids, k=k, show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def known(self, stem: str) -> bool:
        """Whether any indexed text contains the stem."""
        return stem in self._df

    def idf(self, stem: str) -> float:
        """Smoothed inverse document frequency of a stem (unknown stems count as rare)."""
        df = self._df.get(stem, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))


def stems(text: str) -> list[str]:
    """Lower-cased, stop-word-free Snowball stems of `text`, in order."""
    words = [w.lower() for w in _WORD.findall(normalise(text))]
    words = [w for w in words if w not in _STOPWORDS]
    return _stemmer().stemWords(words)


_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)
