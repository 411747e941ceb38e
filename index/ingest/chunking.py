"""Articles → token-bounded chunks on sentence boundaries, counted with tiktoken."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from newsqa.index.runtime import llama_index_core, offline_tiktoken_encoding
from newsqa.index.store.records import chunk_id
from newsqa.index.text.sentences import sentence_pieces
from newsqa.index.types import Article, Chunk

ENCODING = "cl100k_base"
CHARS_PER_TOKEN_BOUND = 12  # more characters than a cl100k token of prose ever spans


@lru_cache(maxsize=1)
def _token_counter() -> Callable[[str], list[int]]:
    encoding = offline_tiktoken_encoding(ENCODING)
    return encoding.encode_ordinary


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in `text`."""
    return len(_token_counter()(text))


class Chunker:
    """Splits article text into chunks of at most `chunk_tokens` tokens, overlapping by `overlap`."""

    def __init__(self, chunk_tokens: int = 200, overlap: int = 30) -> None:
        if chunk_tokens < 32:
            raise ValueError(f"chunk_tokens must be at least 32, got {chunk_tokens}")
        if not 0 <= overlap < chunk_tokens:
            raise ValueError(f"overlap must be in [0, {chunk_tokens}), got {overlap}")
        llama_index_core()
        from llama_index.core.node_parser import SentenceSplitter

        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self._splitter = SentenceSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=overlap,
            tokenizer=_token_counter(),
            paragraph_separator="\n\n",
            chunking_tokenizer_fn=sentence_pieces,
        )

    def split(self, article: Article, limit: int | None = None) -> list[Chunk]:
        """The article's chunks, numbered from 0 (ids `source#n`); only the first `limit` when given,
        without splitting the text beyond them (splitting costs seconds per megabyte)."""
        text = article.text
        if limit is not None:
            text = text[: limit * self.chunk_tokens * CHARS_PER_TOKEN_BOUND]
        if not text.strip():
            return []
        pieces = self._splitter.split_text(text)[:limit]
        return [
            Chunk(
                id=chunk_id(article.source, n),
                source=article.source,
                n=n,
                text=piece.strip(),
                title=article.title,
                url=article.url,
                published=article.published,
                updated=article.updated,
                site=article.site,
                author=article.author,
            )
            for n, piece in enumerate(pieces)
            if piece.strip()
        ]
