"""Lexical side of retrieval: BM25 (bm25s, Snowball stemmer) and the term statistics answering uses."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import bm25s
import numpy as np
from bm25s.tokenization import Tokenizer

from newsqa.index.text.names import inner_edits, one_edit_apart
from newsqa.index.text.normalise import normalise
from newsqa.index.text.terms import stemmer, stems

# bm25s logs every index build at DEBUG through its own handler level; keep it quiet.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_ARRAYS = ("data", "indices", "indptr")  # bm25s's sparse score matrix


def _new_tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=stemmer().stemWord, stopwords="en")


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

    def save(self, folder: Path) -> None:
        """Write the index into `folder` for `load` (bm25s's save cannot write integer-id vocabularies)."""
        if self.size == 0:
            raise ValueError("an empty lexical index is not saved")
        for name in _ARRAYS:
            np.save(folder / f"bm25.{name}.npy", self._bm25.scores[name], allow_pickle=False)
        vocab = [[int(k), int(v)] for k, v in self._bm25.vocab_dict.items()]
        meta = {
            "size": self.size,
            "num_docs": int(self._bm25.scores["num_docs"]),
            "vocab": vocab,
            "df": self._df,
        }
        (folder / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        self._tokenizer.save_vocab(str(folder), "tokenizer.json")

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> LexicalIndex:
        """The index `save` wrote into `folder`; OSError/ValueError/KeyError when it cannot be read.

        With `mmap`, the score matrix stays on disk and the OS pages in the postings a query reads,
        so memory does not grow with the corpus (the files must then not change while in use)."""
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        index = cls([])
        index.size, index._df = int(meta["size"]), dict(meta["df"])
        index._tokenizer.load_vocab(str(folder), "tokenizer.json")
        bm25 = index._bm25
        bm25.load_scores(
            str(folder), *(f"bm25.{name}.npy" for name in _ARRAYS), num_docs=int(meta["num_docs"]), mmap=mmap
        )
        bm25.vocab_dict = {int(k): int(v) for k, v in meta["vocab"]}
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None  # the default method (lucene) has none
        if index.size != bm25.scores["num_docs"] or len(bm25.scores["indptr"]) != len(bm25.vocab_dict) + 1:
            raise ValueError("the saved lexical index is inconsistent")
        return index

    def search(self, query: str, n: int, only: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top `n` texts for `query`: (position in the input list, BM25 score), best first; `only`, a
        0/1 array over the texts, keeps those marked 1."""
        if self.size == 0:
            return []
        # Map the query's stems to the index's ids ourselves: bm25s's tokenizer would record every
        # new query word in its shared tables, growing a long-running bot and racing between threads.
        vocab = self._tokenizer.get_vocab_dict()
        ids = [vocab[t] for t in stems(query) if t in vocab]
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
