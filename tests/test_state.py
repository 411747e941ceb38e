"""The index state document: typed, and read and written exactly as earlier versions stored it."""

from __future__ import annotations

import json

import pytest

from newsqa.index.store.records import record_id, source_of, version_of
from newsqa.index.store.state import DocumentState, IndexConfig, IndexState, outdated_format

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

# A state document as newsqa writes it (keys sorted, as stored).
STORED = {
    "collection": "newsqa_chunks_3",
    "config": {"chunk_overlap": 30, "chunk_tokens": 200, "embed_model": "minilm-int8:abc", "format": 2},
    "documents": {
        "a.txt": {
            "author": None,
            "chunks": 2,
            "published": "2025-03-12",
            "sha256": "f" * 64,
            "site": None,
            "updated": None,
            "title": "A",
            "url": "https://example.com/a",
            "version": "ffffffffffffffff",
        }
    },
    "generation": 3,
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_state_round_trips_the_stored_document_unchanged() -> None:
    state = IndexState.from_json(json.loads(json.dumps(STORED)))
    assert state.config == IndexConfig("minilm-int8:abc", 200, 30)
    assert state.documents["a.txt"] == DocumentState(
        "ffffffffffffffff", 2, "f" * 64, "A", "https://example.com/a", "2025-03-12", None, None, None
    )
    assert json.dumps(state.to_json(), sort_keys=True) == json.dumps(STORED, sort_keys=True)
    assert not outdated_format(state.config)


def test_state_records_signature_and_copy_of_and_reads_states_written_without_them() -> None:
    copy = {**STORED["documents"]["a.txt"], "signature": "0" * 512, "copy_of": "b.txt"}  # type: ignore[dict-item]
    stored = {**STORED, "documents": {"a.txt": copy}}
    state = IndexState.from_json(json.loads(json.dumps(stored)))
    assert state.documents["a.txt"].copy_of == "b.txt" and state.copy_of == {"a.txt": "b.txt"}
    assert json.dumps(state.to_json(), sort_keys=True) == json.dumps(stored, sort_keys=True)
    before = IndexState.from_json(STORED)  # written by a newsqa from before copies were indexed
    assert before.documents["a.txt"].signature == "" and before.copy_of == {}
    assert not outdated_format(before.config)  # no rebuild: the next reindex only reads the signatures


def test_state_written_before_dated_chunks_reads_but_is_outdated() -> None:
    """A format-1 index (chunks without `published_day`, `site`, `updated`) must be rebuilt, not mixed."""
    old = json.loads(json.dumps(STORED))
    old["config"]["format"] = 1
    del old["documents"]["a.txt"]["updated"]
    del old["documents"]["a.txt"]["author"]
    state = IndexState.from_json(old)
    assert state.documents["a.txt"].updated is None
    assert outdated_format(state.config)
    assert state.config != IndexConfig("minilm-int8:abc", 200, 30)  # so the indexer rebuilds it


def test_state_names_the_records_of_an_article_through_record_id() -> None:
    state = IndexState.from_json(STORED)
    assert state.records_of("a.txt") == [record_id("a.txt", n, "ffffffffffffffff") for n in range(2)]
    assert state.records_of("missing.txt") == []
    rid = state.records_of("a.txt")[1]
    assert (rid, source_of(rid), version_of(rid)) == ("a.txt#1@ffffffffffffffff", "a.txt", "ffffffffffffffff")
    assert state.chunk_count == 2 and state.versions == {"a.txt": "ffffffffffffffff"}


def test_state_is_frozen() -> None:
    state = IndexState.from_json(STORED)
    with pytest.raises(AttributeError):
        state.generation = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.documents["b.txt"] = state.documents["a.txt"]  # type: ignore[index]


def test_a_config_of_another_format_reads_as_unknown_so_the_index_is_rebuilt() -> None:
    state = IndexState.from_json({**STORED, "config": {"format": 2, "embed_model": "x"}})
    assert state.config is None and state.config != IndexConfig("x", 200, 30)


@pytest.mark.parametrize("document", [[], {"generation": 1}, {"collection": "c", "documents": {"a": {}}}])
def test_a_document_that_is_no_state_is_refused(document: object) -> None:
    with pytest.raises(ValueError, match="not an index state"):
        IndexState.from_json(document)
