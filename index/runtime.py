"""Process-wide set-up for running offline: the one place that touches globals.

- tiktoken downloads its BPE files at first use unless TIKTOKEN_CACHE_DIR points at a copy;
  llama-index-core ships cl100k_base, so we point tiktoken there (unless the user set it).
- llama-index's global `Settings.llm` / `Settings.embed_model` default to OpenAI: newsqa never
  uses them, but a stray call must fail offline-safe, so both are set to local objects. llama-index
  is imported only where it is used (writing to Chroma, chunking, the LLM): through
  `llama_index_core()`, which sets them first. Answering a question does not import it (about a
  second and 50 MB).
- a long-running server answers in many threads; glibc gives each its own malloc arena, and the
  per-question arrays (BM25 scores over every chunk) fragment them: `limit_malloc_arenas`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_configured = False
_llama_ready = False
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
MALLOC_ARENAS = 2  # measured on 4x BBC, 200 questions: serve RSS 663 MB with glibc's default, 561 MB with 2

log = logging.getLogger(__name__)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (call before its threads start), unless the user
    set MALLOC_ARENA_MAX; True when a cap is in force. Without glibc (macOS, musl) it does nothing."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return True  # glibc read it at start-up
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_ARENA_MAX, arenas))  # musl's stub returns 0
    log.debug("malloc arenas capped at %d: %s", arenas, done)
    return done


def llama_index_static_dir() -> Path:
    """llama-index-core's bundled data, found without importing the package."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed: pip install newsqa's dependencies")
    return Path(next(iter(spec.submodule_search_locations))) / "_static"


def offline_tiktoken_encoding(name: str) -> Any:
    """A tiktoken encoding loaded from llama-index's bundled cache, never from the network."""
    configure()
    import tiktoken

    return tiktoken.get_encoding(name)


def configure() -> None:
    """Idempotent: point tiktoken at llama-index's bundled data (without importing llama-index)."""
    global _configured
    with _lock:
        if _configured:
            return
        static = llama_index_static_dir()
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
        _configured = True


def llama_index_core() -> Any:
    """`llama_index.core`, imported with its OpenAI defaults replaced by local objects (idempotent):
    the way newsqa's modules import llama-index."""
    global _llama_ready
    configure()
    with _lock:
        import llama_index.core

        if _llama_ready:
            return llama_index.core
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core.embeddings import MockEmbedding
        from llama_index.core.llms import MockLLM

        # Never used for answering; set so nothing in llama-index reaches for OpenAI.
        LlamaSettings.llm = MockLLM()
        LlamaSettings.embed_model = MockEmbedding(embed_dim=8)
        _llama_ready = True
        return llama_index.core
