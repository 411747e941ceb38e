"""Chroma's log of the index state stays short: rewriting the state never leaves the old ones on disk."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from newsqa.index.store.chroma import STATE_COLLECTION
from newsqa.index.store.state import IndexState, state_document

# Rewrites the state 30 times in a process of its own: Chroma applies a collection's changed
# configuration from the next process that opens it.
REWRITE = """
import sys
from dataclasses import replace
from pathlib import Path
from newsqa.index.config import Settings
from newsqa.index.store.chroma import ChromaStore
store = ChromaStore(Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2])))
state = store.read_state()
for i in range(30):
    store.write_state(replace(state, updated_at=f"rewrite {i}"))
"""


def _big(state: IndexState, articles: int = 3000) -> IndexState:
    """`state` naming `articles` articles (copies of its own): a state document of about 1 MB."""
    copies = itertools.islice(itertools.cycle(state.documents.values()), articles)
    return replace(state, documents={f"copy-{i:05d}.txt": doc for i, doc in enumerate(copies)})


def _store_mb(index_dir: Path) -> float:
    return (index_dir / "chroma" / "chroma.sqlite3").stat().st_size / 1e6


# After 30 rewrites of a 2.5 MB state, chroma.sqlite3 had grown by 9.5 states with the short log
# (Chroma's full-text index of the document settles there) and by 36 with Chroma's defaults.
GROWTH_LIMIT = 15  # states' worth


def test_rewriting_the_state_again_and_again_keeps_the_store_small(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    big = _big(qa.store.read_state())
    one = len(state_document(big)) / 1e6
    assert one > 0.5
    qa.store.write_state(big)
    before = _store_mb(qa.settings.index_dir)
    for i in range(30):
        qa.store.write_state(replace(big, updated_at=f"rewrite {i}"))
    assert _store_mb(qa.settings.index_dir) < before + GROWTH_LIMIT * one
    assert qa.store.read_state() == replace(big, updated_at="rewrite 29")


def test_a_state_collection_an_older_newsqa_made_gets_the_short_log_too(make_qa, corpus):
    qa = make_qa(corpus)
    qa.reindex()
    qa.store._client.delete_collection(STATE_COLLECTION)
    qa.store._client.create_collection(STATE_COLLECTION)  # as an older newsqa made it: Chroma's defaults
    qa.reindex()  # finds no state: builds the index again and writes the state
    qa.store.write_state(_big(qa.store.read_state()))
    one = len(state_document(qa.store.read_state())) / 1e6
    index_dir = qa.settings.index_dir
    qa.close()
    before = _store_mb(index_dir)
    done = subprocess.run(
        [sys.executable, "-c", REWRITE, str(corpus), str(index_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _store_mb(index_dir) < before + GROWTH_LIMIT * one
    reopened = make_qa(corpus, index_dir)
    assert reopened.store.read_state().updated_at == "rewrite 29"
