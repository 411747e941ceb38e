"""The BM25 index: search, term statistics, and a save/load round trip through bm25s's internals."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
from bm25s.tokenization import Tokenizer

from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.text.normalise import normalise
from newsqa.index.text.terms import stemmer

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

TEXTS = [
    "Roughly 2,500 U.S. troops are stationed in Iraq.",
    "The port of Duqm in Oman opened a new pier.",
    "Iraq and the United States began security talks in Washington.",
]


def test_search_ranks_the_text_that_holds_the_words() -> None:
    index = LexicalIndex(TEXTS)
    assert [position for position, _ in index.search("troops in Iraq", 3)][0] == 0
    assert [position for position, _ in index.search("pier", 3)] == [1]
    assert index.search("nothing matches this", 3) == []


def test_term_statistics() -> None:
    index = LexicalIndex(TEXTS)
    assert index.known("iraq") and not index.known("kuwait")
    assert index.idf("pier") > index.idf("iraq") > 0


def test_saved_index_loads_with_the_same_scores(tmp_path: Path) -> None:
    """Fails when a bm25s release changes the internals save/load write (pyproject bounds bm25s)."""
    index = LexicalIndex(TEXTS)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    for query in ("troops in Iraq", "pier in Oman", "security talks", "US"):
        assert loaded.search(query, 3) == index.search(query, 3)
    assert (loaded.size, loaded.idf("iraq")) == (index.size, index.idf("iraq"))


def test_an_empty_index_finds_nothing_and_is_not_saved(tmp_path: Path) -> None:
    index = LexicalIndex([])
    assert index.search("Iraq", 3) == []
    with pytest.raises(ValueError):
        index.save(tmp_path)


MORE = [
    "The and of it was",  # stop words alone: bm25s's empty token
    "Kuwait hosts 13,500 troops at Camp Arifjan.",
    "Oman's port of Duqm handles more ships each year.",
    "Talks in Washington ended without an agreement on troops.",
]


def _same_index(a: LexicalIndex, b: LexicalIndex) -> None:
    for name in ("data", "indices", "indptr"):
        x, y = a._bm25.scores[name], b._bm25.scores[name]
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert (a.size, a._stems, a._df, a._bm25.vocab_dict) == (b.size, b._stems, b._df, b._bm25.vocab_dict)
    assert np.array_equal(a._tokens, b._tokens) and np.array_equal(a._ends, b._ends)
    for query in ("troops in Iraq", "Duqm port", "Kuwait", "talks agreement", "the"):
        assert a.search(query, 10) == b.search(query, 10)


def test_the_score_matrix_is_the_one_bm25s_builds() -> None:
    texts = TEXTS + MORE
    tokenizer = Tokenizer(stemmer=stemmer().stemWord, stopwords="en")
    ids = tokenizer.tokenize([normalise(t) for t in texts], return_as="ids", show_progress=False)
    reference = bm25s.BM25()
    reference.index(ids, show_progress=False)
    index = LexicalIndex(texts)
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(index._bm25.scores[name], reference.scores[name]), name
        assert index._bm25.scores[name].dtype == reference.scores[name].dtype
    assert index._bm25.vocab_dict == reference.vocab_dict
    assert index._stems == list(tokenizer.get_vocab_dict())


@pytest.mark.parametrize("saved", [False, True], ids=["in memory", "loaded"])
def test_an_index_reusing_another_is_the_index_a_fresh_build_gives(tmp_path: Path, saved: bool) -> None:
    previous = LexicalIndex(TEXTS + MORE[:2])
    if saved:
        previous.save(tmp_path)
        previous = LexicalIndex.load(tmp_path, mmap=True)
    # Dropped: text 1 (Duqm, pier: stems no text holds any more) and the stop words; kept in another
    # order; new texts in between, one with stems `previous` never saw.
    texts: list[int | str] = [MORE[2], 2, MORE[3], 0, 4, "Pier workers in Duqm strike."]
    plain = [t if isinstance(t, str) else (TEXTS + MORE)[t] for t in texts]
    _same_index(LexicalIndex.reusing(previous, texts), LexicalIndex(plain))
    _same_index(LexicalIndex.reusing(previous, [3, 0]), LexicalIndex([MORE[0], TEXTS[0]]))


def test_an_index_saved_and_loaded_can_be_reused_again(tmp_path: Path) -> None:
    first = LexicalIndex.reusing(LexicalIndex(TEXTS), [0, MORE[1], 2])
    first.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    _same_index(loaded, first)
    _same_index(LexicalIndex.reusing(loaded, [2, 1, MORE[3]]), LexicalIndex([TEXTS[2], MORE[1], MORE[3]]))
