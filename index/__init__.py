"""newsqa's library: corpus → chunks → embeddings → Chroma, and question → passages → cited answer.

The public API is re-exported here; `QA` is the one service the CLI, the bot, the benchmarks and the
tests call. `QA` is imported on first use, so `from newsqa.index import Settings` stays cheap (the
store, the models and llama-index load only when a service is built).

    text ◀── ingest ──▶ store ──▶ retrieval ◀── answering ◀── llm        (see docs/architecture.md)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newsqa.index.config import Settings
from newsqa.index.errors import (
    ConfigError,
    CorpusError,
    EmbeddingError,
    IndexBuildingError,
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    LLMError,
    NewsqaError,
    QuestionError,
    ReindexBusyError,
    ReindexError,
    StoreUnavailableError,
)
from newsqa.index.types import (
    Answer,
    Article,
    Chunk,
    Citation,
    Passage,
    Period,
    Progress,
    ReindexSummary,
    When,
)

if TYPE_CHECKING:
    from newsqa.index.service import QA

__all__ = [
    "QA",
    "Answer",
    "Article",
    "Chunk",
    "Citation",
    "ConfigError",
    "CorpusError",
    "EmbeddingError",
    "IndexBuildingError",
    "IndexChangedError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "LLMError",
    "NewsqaError",
    "Passage",
    "Period",
    "Progress",
    "QuestionError",
    "ReindexBusyError",
    "ReindexError",
    "ReindexSummary",
    "Settings",
    "StoreUnavailableError",
    "When",
]


def __getattr__(name: str) -> Any:
    if name == "QA":
        from newsqa.index.service import QA

        return QA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
