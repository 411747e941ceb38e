"""Lexical side of retrieval: BM25 (bm25s, Snowball stemmer) and the term statistics answering uses.

An index keeps each text's stems as ids (`_tokens`, one flat array, and where each text ends), so
that an index over mostly the same texts can be built from another's (`reusing`) without
tokenizing and stemming them again: a one-article reindex of BBC spent 0.75 s of its 3.4 s on that
(issue #17). Ids are numbered as bm25s's tokenizer numbers them (`""` first, then each stem at its
first appearance), and the score matrix is computed as bm25s's `index` computes it, in numpy, so
either way gives the index a fresh build gives, to the bit (tests/test_lexical.py compares them).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
from bm25s.tokenization import Tokenizer

from newsqa.index.text.names import inner_edits, one_edit_apart
from newsqa.index.text.normalise import normalise
from newsqa.index.text.terms import stemmer, stems

# bm25s logs every index build at DEBUG through its own handler level; keep it quiet.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_ARRAYS = ("data", "indices", "indptr")  # bm25s's sparse score matrix
_TOKENS = "bm25.tokens.npy"  # every text's stem ids, one after another
_ENDS = "bm25.ends.npy"  # where each text's ids end in _TOKENS


def _tokenized(texts: list[str]) -> tuple[list[str], list[list[int]]]:
    """The stems of `texts` by id (bm25s's tokenizer, Snowball stems, English stop words) and each
    text's ids; a text of stop words alone is [0], the id of ""."""
    tokenizer = Tokenizer(stemmer=stemmer().stemWord, stopwords="en")
    ids = tokenizer.tokenize([normalise(t) for t in texts], return_as="ids", show_progress=False)
    return list(tokenizer.get_vocab_dict()), ids


class LexicalIndex:
    """BM25 over a fixed list of texts; also knows each stem's document frequency."""

    def __init__(self, texts: list[str]) -> None:
        vocab, ids = _tokenized(texts) if texts else ([], [])
        lengths = np.array([len(doc) for doc in ids], dtype=np.int64)
        tokens = np.fromiter((t for doc in ids for t in doc), dtype=np.int32, count=int(lengths.sum()))
        self._build(vocab, tokens, np.cumsum(lengths))

    @classmethod
    def reusing(cls, previous: LexicalIndex, texts: Sequence[int | str]) -> LexicalIndex:
        """The index of `texts`, where an int stands for `previous`'s text at that position, whose
        stems are reused rather than tokenized again: the index `LexicalIndex` builds of the texts."""
        fresh = [t for t in texts if isinstance(t, str)]
        if len(fresh) == len(texts):
            return cls(fresh)
        vocab, ids = _tokenized(fresh) if fresh else ([], [])
        stems, known = list(previous._stems), dict(previous._vocab)
        for stem in vocab:
            if stem not in known:
                known[stem] = len(stems)
                stems.append(stem)
        remap = np.array([known[stem] for stem in vocab], dtype=np.int32)
        # Plain arrays and ints: slicing a memory map makes a memory map each time, 40x slower.
        old, ends = np.asarray(previous._tokens), [0, *np.asarray(previous._ends).tolist()]
        parts, new = [], iter(ids)
        for text in texts:
            if isinstance(text, str):
                parts.append(remap[np.asarray(next(new), dtype=np.int64)])
            else:
                parts.append(old[ends[text] : ends[text + 1]])
        tokens = np.concatenate(parts)
        # Number the stems as a tokenizer reading the texts in order would: "" is 0 (previous's too),
        # then each at its first appearance; stems that no text holds any more are dropped.
        first = np.full(len(stems), len(tokens), dtype=np.int64)
        np.minimum.at(first, tokens, np.arange(len(tokens), dtype=np.int64))  # 20x np.unique's time
        order = np.flatnonzero(first < len(tokens))
        order = order[order != 0]
        order = order[np.argsort(first[order])]
        number = np.zeros(len(stems), dtype=np.int32)
        number[order] = np.arange(1, len(order) + 1, dtype=np.int32)
        index = cls.__new__(cls)
        lengths = np.array([len(part) for part in parts], dtype=np.int64)
        index._build([""] + [stems[i] for i in order], number[tokens], np.cumsum(lengths))
        return index

    def _build(self, stems: list[str], tokens: np.ndarray, ends: np.ndarray) -> None:
        self.size = len(ends)
        self._stems, self._vocab = stems, {stem: i for i, stem in enumerate(stems)}
        self._tokens, self._ends = tokens, ends
        self._bm25 = bm25s.BM25()
        self._bm25.nonoccurrence_array = None  # the default method (lucene) has none
        if self.size == 0:
            self._df: dict[str, int] = {}
            return
        scores, df = _bm25_scores(tokens, ends, len(stems), self._bm25.k1, self._bm25.b)
        self._bm25.scores = scores
        self._bm25.vocab_dict = {i: i for i in range(len(scores["indptr"]) - 1)}
        self._bm25.unique_token_ids_set = set(self._bm25.vocab_dict.values())
        self._df = {stem: int(count) for stem, count in zip(stems, df.tolist(), strict=True)}

    def save(self, folder: Path) -> None:
        """Write the index into `folder` for `load`."""
        if self.size == 0:
            raise ValueError("an empty lexical index is not saved")
        for name in _ARRAYS:
            np.save(folder / f"bm25.{name}.npy", self._bm25.scores[name], allow_pickle=False)
        np.save(folder / _TOKENS, np.asarray(self._tokens, dtype=np.int32), allow_pickle=False)
        np.save(folder / _ENDS, np.asarray(self._ends, dtype=np.int64), allow_pickle=False)
        meta = {
            "size": self.size,
            "num_docs": int(self._bm25.scores["num_docs"]),
            "columns": len(self._bm25.vocab_dict),
            "stems": self._stems,
            "df": [self._df[stem] for stem in self._stems],
        }
        (folder / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> LexicalIndex:
        """The index `save` wrote into `folder`; OSError/ValueError/KeyError when it cannot be read.

        With `mmap`, the score matrix and the texts' stem ids stay on disk and the OS pages in what
        is read (a query's postings), so memory does not grow with the corpus (the files must then
        not change while in use)."""
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        index = cls.__new__(cls)
        index.size, stems, df = int(meta["size"]), list(meta["stems"]), list(meta["df"])
        mode: Literal["r"] | None = "r" if mmap else None
        index._tokens = np.load(folder / _TOKENS, mmap_mode=mode, allow_pickle=False)
        index._ends = np.load(folder / _ENDS, mmap_mode=mode, allow_pickle=False)
        index._stems, index._vocab = stems, {stem: i for i, stem in enumerate(stems)}
        index._df = dict(zip(stems, (int(count) for count in df), strict=True))
        bm25 = index._bm25 = bm25s.BM25()
        bm25.load_scores(
            str(folder), *(f"bm25.{name}.npy" for name in _ARRAYS), num_docs=int(meta["num_docs"]), mmap=mmap
        )
        bm25.vocab_dict = {i: i for i in range(int(meta["columns"]))}
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None
        if (
            index.size != bm25.scores["num_docs"]
            or len(bm25.scores["indptr"]) != len(bm25.vocab_dict) + 1
            or len(index._ends) != index.size
            or (index.size and int(index._ends[-1]) != len(index._tokens))
            or stems[:1] != [""]
        ):
            raise ValueError("the saved lexical index is inconsistent")
        return index

    def search(self, query: str, n: int, only: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top `n` texts for `query`: (position in the input list, BM25 score), best first; `only`, a
        0/1 array over the texts, keeps those marked 1."""
        if self.size == 0:
            return []
        # Map the query's stems to the index's ids ourselves: bm25s's tokenizer would record every
        # new query word in its shared tables, growing a long-running bot and racing between threads.
        ids = [self._vocab[t] for t in stems(query) if t in self._vocab]
        if not ids:
            return []
        k = min(n, self.size)
        docs, scores = self._bm25.retrieve([ids], k=k, show_progress=False, n_threads=1, weight_mask=only)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def known(self, stem: str) -> bool:
        """Whether any indexed text contains the stem."""
        return stem in self._df

    def spelled_like(self, stem: str) -> str | None:
        """The indexed stem `stem` is a typo of: one edit away, same first letter, five letters or
        more (Iran is not Iraq); the most frequent when several are. None for a known stem."""
        if len(stem) < 5 or stem in self._df:
            return None
        near = [
            t
            for t in self._df
            if t[:1] == stem[:1] and abs(len(t) - len(stem)) <= 1 and one_edit_apart(t, stem)
        ]
        if not near:  # a letter dropped or added changes the stem too: "minster" → minister → "minist"
            near = [t for t in set(stemmer().stemWords(sorted(inner_edits(stem)))) if t in self._df]
        return max(near, key=lambda t: (self._df[t], t), default=None)

    def idf(self, stem: str) -> float:
        """Smoothed inverse document frequency of a stem (unknown stems count as rare)."""
        df = self._df.get(stem, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))


def _bm25_scores(
    tokens: np.ndarray, ends: np.ndarray, vocab: int, k1: float, b: float
) -> tuple[dict[str, Any], np.ndarray]:
    """bm25s's score matrix (lucene's BM25) of the texts whose stem ids are `tokens`, ending at
    `ends`, as `bm25s.BM25().index(ids)` computes it, operation for operation; and each stem's
    document frequency. bm25s loops in Python over the texts: 0.3 s on BBC's 7,324 chunks."""
    size = len(ends)
    lengths = np.asarray(np.diff(ends, prepend=0), dtype=np.int64)
    docs = np.repeat(np.arange(size, dtype=np.int64), lengths)
    # By stem, then text: bm25s's CSC order (every score is computed on its own, in any order).
    pairs, counts = np.unique(np.asarray(tokens, dtype=np.int64) * size + docs, return_counts=True)
    stem, doc = pairs // size, pairs % size
    df = np.bincount(stem, minlength=vocab)
    # bm25s gives every stem a column, plus one more for "" when a text holds it (id 0 is taken).
    columns = vocab + (1 if df[0] else 0)
    idf = np.zeros(columns, dtype=np.float32)
    idf[:vocab] = [math.log(1 + (size - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()]
    average = lengths.mean()
    tf = counts.astype(np.float32)
    tfc = tf / (k1 * ((1 - b) + b * lengths[doc] / average) + tf)  # float64, as bm25s's is
    score = (idf[stem] * tfc).astype(np.float32)
    indptr = np.zeros(columns + 1, dtype=np.int64)
    np.cumsum(np.bincount(stem, minlength=columns), out=indptr[1:])
    matrix = {
        "data": score,
        "indices": doc.astype(np.int32),
        "indptr": indptr,
        "num_docs": size,
    }
    return matrix, df
