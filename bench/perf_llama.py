"""The reference point: llama-index's quickstart pipeline on the same corpus, embedder and questions.

`python bench/perf_llama.py TASK ARGS_JSON` (build | queries | cold) prints JSON on its last line.
Quickstart as documented: SimpleDirectoryReader → VectorStoreIndex over a ChromaVectorStore with the
default node parser (SentenceSplitter, 1024 tokens, overlap 200), here with newsqa's MiniLM embedder
instead of OpenAI. There is no LLM offline, so a "query" is `as_retriever(similarity_top_k=3)
.retrieve()`: retrieval only, no answer synthesis. This is a benchmark's baseline, which is why
chromadb is imported here and not only in index/store/chroma.py.
"""

from __future__ import annotations

import time

started = time.perf_counter()

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import chromadb  # noqa: E402
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.vector_stores.chroma import ChromaVectorStore  # noqa: E402
from perf_work import peak_rss_mb, percentile, rss_mb  # noqa: E402

from newsqa.index.retrieval.embedding import llama_embedding  # noqa: E402
from newsqa.index.retrieval.minilm import MiniLMEmbedding  # noqa: E402

COLLECTION = "quickstart"


def _vector_store(index_dir: str) -> ChromaVectorStore:
    client = chromadb.PersistentClient(path=str(Path(index_dir).resolve()))
    return ChromaVectorStore(chroma_collection=client.get_or_create_collection(COLLECTION))


def _open(index_dir: str) -> tuple[VectorStoreIndex, MiniLMEmbedding]:
    embedder = MiniLMEmbedding()
    index = VectorStoreIndex.from_vector_store(
        _vector_store(index_dir), embed_model=llama_embedding(embedder)
    )
    return index, embedder


def build(args: dict[str, Any]) -> dict[str, Any]:
    embedder = MiniLMEmbedding()
    embedder.load()
    t0 = time.perf_counter()
    documents = SimpleDirectoryReader(
        args["corpus"], recursive=True, required_exts=[".txt"], exclude=["README*"]
    ).load_data()
    t_read = time.perf_counter() - t0
    context = StorageContext.from_defaults(vector_store=_vector_store(args["index_dir"]))
    index = VectorStoreIndex.from_documents(
        documents, storage_context=context, embed_model=llama_embedding(embedder)
    )
    seconds = time.perf_counter() - t0
    chunks = index.vector_store._collection.count()  # type: ignore[attr-defined]
    return {
        "articles": len(documents),
        "chunks": chunks,
        "seconds": seconds,
        "read_s": t_read,
        "peak_rss_mb": peak_rss_mb(),
    }


def queries(args: dict[str, Any]) -> dict[str, Any]:
    index, _ = _open(args["index_dir"])
    retriever = index.as_retriever(similarity_top_k=3)
    questions = args["questions"]
    retriever.retrieve(questions[0]["q"])
    walls, hits = [], 0
    for item in questions:
        t0 = time.perf_counter()
        nodes = retriever.retrieve(item["q"])
        walls.append((time.perf_counter() - t0) * 1000)
        sources = {str(n.node.metadata.get("file_path", "")) for n in nodes}
        hits += bool(item.get("source")) and any(s.endswith("/" + item["source"]) for s in sources)
    return {
        "questions": len(questions),
        "p50_ms": percentile(walls, 50),
        "p95_ms": percentile(walls, 95),
        "mean_ms": statistics.mean(walls),
        "hit_at_3": hits / len(questions) if questions[0].get("source") else None,
        "rss_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }


def cold(args: dict[str, Any]) -> dict[str, Any]:
    """Imports, open, one retrieval: the quickstart's equivalent of a cold `newsqa ask`."""
    index, _ = _open(args["index_dir"])
    index.as_retriever(similarity_top_k=3).retrieve(args["question"])
    return {"seconds": time.perf_counter() - started}


TASKS = {"build": build, "queries": queries, "cold": cold}

if __name__ == "__main__":
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.argv[2]))))
