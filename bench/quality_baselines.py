"""The baselines bench/quality.py scores newsqa against: what a user would otherwise pick.

Each is a callable `ask(question) -> Answer` (answer = the top chunk's first 500 characters, the
retrieved chunks as citations, never abstaining), so `index.evaluate` scores every system alike.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import bm25s
import Stemmer

from newsqa.index.answering.answer import MAX_ANSWER_CHARS
from newsqa.index.config import Settings
from newsqa.index.service import QA
from newsqa.index.store.records import embedding_text
from newsqa.index.types import Answer, Chunk, Citation

TOP_K = 5  # chunks kept for hit@5
QUICKSTART_TOP_K = 2  # the llama-index quickstart's similarity_top_k
QUICKSTART_COLLECTION = "llamaindex_quickstart"


def top_chunk_answer(question: str, hits: list[tuple[str, str, str, float]]) -> Answer:
    """hits: (source, title, text, score), best first; the answer is the top chunk's text."""
    citations = [
        Citation(n, source, title, None, text, score)
        for n, (source, title, text, score) in enumerate(hits, 1)
    ]
    top = hits[0][2][:MAX_ANSWER_CHARS] if hits else ""
    return Answer(question=question, answer=top, abstained=False, citations=citations)


def _chunk_hit(chunk: Chunk, score: float) -> tuple[str, str, str, float]:
    return chunk.source, chunk.title, chunk.text, score


class Bm25Baseline:
    """bm25s with the Snowball stemmer over newsqa's own chunks (title line included, as in the file)."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        texts = [embedding_text(c) for c in chunks]
        self._bm25.index(self._tokenize(texts), show_progress=False)

    def _tokenize(self, texts: list[str]) -> Any:
        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    def ask(self, question: str) -> Answer:
        query = bm25s.tokenize(
            [question], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        k = min(TOP_K, len(self.chunks))
        docs, scores = self._bm25.retrieve(query, k=k, show_progress=False, n_threads=1)
        hits = [_chunk_hit(self.chunks[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True)]
        return top_chunk_answer(question, hits)


class DenseBaseline:
    """Dense only: newsqa's Chroma collection (our chunking), no BM25, no fusion."""

    def __init__(self, qa: QA) -> None:
        self.qa = qa

    def ask(self, question: str) -> Answer:
        snapshot = self.qa.snapshot()
        embedding = self.qa.embedder.get_query_embedding(question)
        hits: list[tuple[str, str, str, float]] = []
        seen: set[str] = set()
        # Over-fetch: records of superseded article versions are not live.
        for record, chunk, sim in self.qa.store.query(snapshot.collection, embedding, TOP_K + 10):
            if snapshot.is_live(record, chunk.source) and chunk.id not in seen:
                seen.add(chunk.id)
                hits.append(_chunk_hit(chunk, sim))
        return top_chunk_answer(question, hits[:TOP_K])


class QuickstartBaseline:
    """The llama-index quickstart: SimpleDirectoryReader → VectorStoreIndex over Chroma, defaults.

    Default SentenceSplitter (1024 tokens, 200 overlap), default metadata in the embedded text,
    similarity_top_k=2; its own Chroma folder, rebuilt only when the corpus or the embedding model
    changes.
    """

    def __init__(self, corpus_dir: Path, folder: Path, embedder: Any) -> None:
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex

        from newsqa.index.retrieval.embedding import llama_embedding
        from newsqa.index.runtime import llama_index_core
        from newsqa.index.store.chroma import ChromaStore

        llama_index_core()
        embed_model = llama_embedding(embedder)

        self.corpus_dir = corpus_dir.resolve()
        existed = (folder / "chroma").is_dir()
        store = ChromaStore(Settings(corpus_dir=corpus_dir, index_dir=folder))
        stamp_file = folder / "corpus.sha256"
        stamp = f"{corpus_stamp(self.corpus_dir)} {embedder.model_id}"
        self.built_seconds: float | None = None
        if not stamp_file.is_file() or stamp_file.read_text() != stamp:
            started = time.perf_counter()
            if existed:  # a stale or half-built index
                store.drop(QUICKSTART_COLLECTION)
            documents = SimpleDirectoryReader(str(self.corpus_dir), recursive=True).load_data()
            storage = StorageContext.from_defaults(vector_store=store.vector_store(QUICKSTART_COLLECTION))
            index = VectorStoreIndex.from_documents(
                documents, storage_context=storage, embed_model=embed_model
            )
            stamp_file.write_text(stamp)
            self.built_seconds = time.perf_counter() - started
        else:
            index = VectorStoreIndex.from_vector_store(
                store.vector_store(QUICKSTART_COLLECTION), embed_model=embed_model
            )
        self._retriever = index.as_retriever(similarity_top_k=QUICKSTART_TOP_K)

    def ask(self, question: str) -> Answer:
        hits = []
        for scored in self._retriever.retrieve(question):
            path = Path(scored.node.metadata.get("file_path", ""))
            source = path.relative_to(self.corpus_dir).as_posix() if path.is_absolute() else path.as_posix()
            hits.append((source, path.stem, scored.node.get_content(), float(scored.score or 0.0)))
        return top_chunk_answer(question, hits)


def corpus_stamp(corpus_dir: Path) -> str:
    """A digest of every file's path and bytes: the quickstart index is rebuilt when it changes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        digest.update(json.dumps([path.relative_to(corpus_dir).as_posix(), path.stat().st_size]).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
