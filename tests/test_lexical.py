"""The BM25 index: search, term statistics, and a save/load round trip through bm25s's internals."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsqa.index.retrieval.lexical import LexicalIndex

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
