"""Answering does not import llama-index (about a second and 50 MB of a cold `newsqa ask`): it is
imported only to write chunks, to chunk articles and for the LLM, always with its OpenAI defaults
replaced by local objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import indexed_seed

pytestmark = pytest.mark.timeout(240)

ASK = """
import json, sys
from pathlib import Path
from newsqa.index.config import Settings
from newsqa.index.service import QA
base = Path(sys.argv[1])
qa = QA(Settings(corpus_dir=base / "corpus", index_dir=base / "index", answerer=sys.argv[2]))
answer = qa.ask("How many US troops are in Iraq?")
llama = sorted(m for m in sys.modules if m.startswith("llama_index."))
print(json.dumps({"answer": answer.answer, "llama": llama}))
"""


@pytest.mark.parametrize("answerer", ["rules", "model"])
def test_answering_a_question_never_imports_llama_index(
    tmp_path_factory: pytest.TempPathFactory, answerer: str
) -> None:
    base = indexed_seed(tmp_path_factory, f"lazy-{answerer}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSWERER", "EMBED_", "CHROMA_"))}
    run = subprocess.run(
        [sys.executable, "-c", ASK, str(base), answerer], capture_output=True, text=True, env=env, timeout=180
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert "2,500" in result["answer"]
    assert result["llama"] == []


def test_llama_index_is_imported_with_local_defaults() -> None:
    from newsqa.index.runtime import llama_index_core

    core = llama_index_core()
    assert type(core.Settings.llm).__name__ == "MockLLM"
    assert type(core.Settings.embed_model).__name__ == "MockEmbedding"
    assert llama_index_core() is core


def test_the_llama_index_adapter_gives_the_embedders_vectors(embedder: object) -> None:
    from newsqa.index.retrieval.embedding import llama_embedding

    adapted = llama_embedding(embedder)  # type: ignore[arg-type]
    text = "Troops leave Iraq."
    assert adapted.get_text_embedding(text) == embedder.get_text_embedding(text)  # type: ignore[attr-defined]
    assert adapted.get_query_embedding(text) == embedder.get_query_embedding(text)  # type: ignore[attr-defined]
    assert adapted.get_text_embedding_batch([text, "Rain in Spain."]) == embedder.get_text_embedding_batch(  # type: ignore[attr-defined]
        [text, "Rain in Spain."]
    )


@pytest.mark.parametrize("days", [None, (0, 10**6)])
def test_queries_read_from_chromadb_match_llama_indexs_chroma_query(seed_qa: object, days: object) -> None:
    """Dense search reads chromadb directly: the same records and similarities (exp(-cosine distance),
    which the answer model's chooser was fitted on) as llama-index's ChromaVectorStore.query."""
    from llama_index.core.vector_stores.types import (
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
    )

    qa = seed_qa
    collection = qa.snapshot().collection  # type: ignore[attr-defined]
    embedding = qa.embedder.get_query_embedding("How many US troops are in Iraq?")  # type: ignore[attr-defined]
    ours = qa.store.query(collection, embedding, 8, days)  # type: ignore[attr-defined]
    filters = None
    if days is not None:
        filters = MetadataFilters(
            filters=[
                MetadataFilter(key="published_day", value=days[0], operator=FilterOperator.GTE),  # type: ignore[index]
                MetadataFilter(key="published_day", value=days[1], operator=FilterOperator.LTE),  # type: ignore[index]
            ]
        )
    query = VectorStoreQuery(query_embedding=embedding, similarity_top_k=8, filters=filters)
    theirs = qa.store.vector_store(collection).query(query)  # type: ignore[attr-defined]
    assert len(ours) == 8
    assert [rid for rid, _, _ in ours] == theirs.ids
    assert [sim for _, _, sim in ours] == pytest.approx(theirs.similarities)
    assert [chunk.text for _, chunk, _ in ours] == [node.get_content() for node in theirs.nodes]
