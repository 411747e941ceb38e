"""The base of newsqa's embedders: a llama-index `BaseEmbedding` with length-sorted batching and a
`model_id` that changes whenever its vectors would (the index stores it and rebuilds when it differs)."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Sequence

from llama_index.core.embeddings import BaseEmbedding
from pydantic import Field

Progress = Callable[[int, int], None]


class NewsqaEmbedding(BaseEmbedding):
    """Shared batching for newsqa's embedders: sort by length, embed in batches, restore the order."""

    batch_size: int = Field(default=32, gt=0, le=2048, description="Texts per model call.")
    # llama-index cuts its input into groups of embed_batch_size before calling us; large groups
    # let the length sort work across many chunks.
    embed_batch_size: int = Field(default=256, gt=0, le=2048)

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identifies the model precisely; when it changes, stored vectors are stale."""

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        """One model call: unit vectors for `texts`, in order."""

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> list[list[float]]:
        """Embed `texts` in their order; `progress(done, total)` is called after each batch."""
        total = len(texts)
        # Similar lengths in a batch mean little padding; the result is put back in input order.
        order = sorted(range(total), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in range(total)]
        for start in range(0, total, self.batch_size):
            picked = order[start : start + self.batch_size]
            for i, vector in zip(picked, self._embed_batch([texts[i] for i in picked]), strict=True):
                out[i] = vector
            if progress is not None:
                progress(start + len(picked), total)
        return out

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed_batch([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed_batch([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    # The async variants run in a worker thread so a bot's event loop keeps serving while we compute.
    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)
