"""The base of newsqa's embedders: length-sorted batching, a `model_id` that changes whenever its vectors
would (the index stores it and rebuilds when it differs), and llama-index's embedding methods
(`get_query_embedding`, `get_text_embedding_batch`, their async forms).

It is a plain pydantic model, not a llama-index `BaseEmbedding`: importing llama-index takes about
a second and 50 MB, which `newsqa ask` and a serving bot would otherwise pay to embed one question.
`llama_embedding()` wraps an embedder for code that hands it to llama-index itself.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import cache
from typing import Any

from pydantic import BaseModel, Field

Progress = Callable[[int, int], None]


class NewsqaEmbedding(BaseModel):
    """Shared batching for newsqa's embedders: sort by length, embed in batches, restore the order."""

    model_name: str = "unknown"
    batch_size: int = Field(default=32, gt=0, le=2048, description="Texts per model call.")
    # The indexer (and llama-index, through llama_embedding) hands over embed_batch_size texts per
    # call; large groups let the length sort work across many chunks.
    embed_batch_size: int = Field(default=256, gt=0, le=2048)
    # Batches in flight at once: 1 for a local model (onnxruntime already uses every core); a remote
    # server is kept busy by sending the next batches while one travels (EMBED_CONCURRENCY).
    concurrency: int = Field(default=1, ge=1, le=64, description="Batches in flight at once.")

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identifies the model precisely; when it changes, stored vectors are stale."""

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        """One model call: unit vectors for `texts`, in order."""

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        """Each text's length, for batching similar lengths together: in characters here; a local
        model counts what it reads (minilm.py)."""
        return [len(text) for text in texts]

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> list[list[float]]:
        """Embed `texts` in their order; `progress(done, total)` is called after each batch."""
        total = len(texts)
        # Similar lengths in a batch mean little padding; the result is put back in input order.
        lengths = self._lengths(texts)
        order = sorted(range(total), key=lengths.__getitem__)
        batches = [order[start : start + self.batch_size] for start in range(0, total, self.batch_size)]
        out: list[list[float]] = [[] for _ in range(total)]
        done = 0

        def place(picked: list[int], vectors: list[list[float]]) -> None:
            nonlocal done
            for i, vector in zip(picked, vectors, strict=True):
                out[i] = vector
            done += len(picked)
            if progress is not None:
                progress(done, total)

        if self.concurrency == 1 or len(batches) < 2:
            for picked in batches:
                place(picked, self._embed_batch([texts[i] for i in picked]))
            return out
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
            running: dict[Future[list[list[float]]], list[int]] = {
                pool.submit(self._embed_batch, [texts[i] for i in picked]): picked for picked in batches
            }
            while running:
                finished, _ = wait(running, return_when=FIRST_EXCEPTION)
                for future in finished:
                    picked = running.pop(future)
                    if future.exception() is not None:
                        for other in running:  # a failed batch fails the call: send no more
                            other.cancel()
                    place(picked, future.result())
        return out

    def get_query_embedding(self, query: str) -> list[float]:
        return self._embed_batch([query])[0]

    def get_text_embedding(self, text: str) -> list[float]:
        return self._embed_batch([text])[0]

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        return self.embed_documents(texts)

    # The async variants run in a worker thread so a bot's event loop keeps serving while we compute.
    async def aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self.get_query_embedding, query)

    async def aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.get_text_embedding, text)

    async def aget_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)


def llama_embedding(embedder: NewsqaEmbedding) -> Any:
    """`embedder` as a llama-index `BaseEmbedding`, for code that gives it to llama-index (the
    quickstart baseline in bench/)."""
    return _adapter_class()(embedder=embedder, model_name=embedder.model_name)


@cache
def _adapter_class() -> type:
    from llama_index.core.embeddings import BaseEmbedding

    class LlamaEmbedding(BaseEmbedding):
        """A newsqa embedder behind llama-index's embedding interface."""

        embedder: Any = Field(exclude=True)

        @classmethod
        def class_name(cls) -> str:
            return "NewsqaLlamaEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self.embedder.get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self.embedder.get_text_embedding(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self.embedder.embed_documents(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return await self.embedder.aget_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return await self.embedder.aget_text_embedding(text)

    return LlamaEmbedding
