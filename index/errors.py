"""Domain errors of newsqa.

    NewsqaError
    ├── ConfigError          a setting is missing or invalid (lists every problem)
    ├── QuestionError        the question itself cannot be answered (empty, too long)
    ├── CorpusError          the corpus folder is missing or unreadable
    ├── EmbeddingError       the embedding model cannot be loaded or run
    ├── AnswerModelError     the answer model (the trained reader) cannot be loaded or run
    ├── IndexNotFoundError   no index has been built yet
    │   └── IndexBuildingError   ... and another process is building it now
    ├── IndexCorruptError    the index on disk is damaged, or a write to it failed (the message says which)
    ├── IndexChangedError    another process deleted, replaced or locked the index this one had open
    ├── IndexModelError      the index was built with another embedding model; `newsqa index` rebuilds it
    ├── StoreUnavailableError the Chroma server cannot be reached
    ├── LLMError             the optional LLM server failed (answers fall back to extractive)
    ├── WebError             a URL or feed could not be used (ingest/web); names the URL and why
    │   ├── FetchError           fetching it failed or was refused (timeouts, limits, addresses)
    │   ├── ExtractError         the page holds no article text
    │   └── FeedError            the document is no RSS or Atom feed, or its XML is broken
    └── ReindexError         a reindex failed; the previous index keeps serving
        └── ReindexBusyError another reindex is already running

Edges (the CLI, the Telegram handlers) turn these into one clear line; the library never
catches a bare Exception to hide a bug.
"""

from __future__ import annotations


class NewsqaError(Exception):
    """Base class: `str(error)` is a complete, user-facing sentence."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.context = context


class ConfigError(NewsqaError):
    """One or more settings are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "; ".join(self.problems)
        super().__init__(f"invalid configuration: {lines}", problems=self.problems)


class QuestionError(NewsqaError):
    """The question is empty or too long."""


class CorpusError(NewsqaError):
    """The corpus folder is missing or unreadable."""


class EmbeddingError(NewsqaError):
    """The embedding model cannot be loaded or run."""


class AnswerModelError(NewsqaError):
    """The answer model (the trained reader) is missing, corrupt or cannot be run."""


class IndexNotFoundError(NewsqaError):
    """No index has been built yet."""


class IndexBuildingError(IndexNotFoundError):
    """Another process is building (or rebuilding) the index right now; ask again in a moment."""


class IndexCorruptError(NewsqaError):
    """The index on disk cannot be read; rebuild it."""


class IndexChangedError(NewsqaError):
    """Another process deleted, replaced or locked the index while this one had it open; read it again."""


class IndexModelError(NewsqaError):
    """The index holds vectors of another embedding model than the one configured; rebuild it."""


class StoreUnavailableError(NewsqaError):
    """The Chroma server cannot be reached."""


class LLMError(NewsqaError):
    """The optional LLM server timed out, failed or sent something unusable."""


class ReindexError(NewsqaError):
    """A reindex failed; the previous index keeps serving."""


class ReindexBusyError(ReindexError):
    """Another reindex is already running."""


class WebError(NewsqaError):
    """A URL or feed could not be used; `url` and `reason` say which and why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}", url=url, reason=reason)
        self.url = url
        self.reason = reason


class FetchError(WebError):
    """Fetching a URL failed, or the fetcher's rules refused it."""


class ExtractError(WebError):
    """A fetched page holds no article text."""


class FeedError(WebError):
    """A fetched document is no RSS or Atom feed, or its XML is broken."""
