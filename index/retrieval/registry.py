"""Embedders by name: the one place that turns `Settings.embed_model` into a llama-index embedder.

Accepted names:

    minilm                            the bundled model (default; retrieval/minilm.py)
    minilm-int8                       the same (its name until 2026-11, when it was an int8 export)
    fastembed:<dir>                   fastembed on a local model folder (all-MiniLM-L6-v2 layout)
    fastembed:<model name>@<dir>      the same, for another model fastembed knows
    openai:<model>                    an OpenAI-compatible /v1/embeddings endpoint at `base_url`

Every embedder subclasses `retrieval.embedding.NewsqaEmbedding`; the modules that define them never
import this one, so there is no cycle between them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from newsqa.index.config import BUNDLED_MODEL_NAMES, embed_model_problem
from newsqa.index.errors import EmbeddingError
from newsqa.index.retrieval.embedding import NewsqaEmbedding

log = logging.getLogger(__name__)


def make_embedder(
    name: str, *, base_url: str | None = None, api_key: str | None = None, concurrency: int = 4
) -> NewsqaEmbedding:
    """The embedder that `name` (Settings.embed_model) selects; raises EmbeddingError if it is invalid.

    `concurrency` (EMBED_CONCURRENCY) is the number of requests in flight to a remote embedder."""
    problem = embed_model_problem(name, base_url)  # Settings checks the same at start-up
    if problem:
        raise EmbeddingError(problem)
    kind, _, rest = name.strip().partition(":")
    if name.strip() in BUNDLED_MODEL_NAMES:
        from newsqa.index.retrieval.minilm import MiniLMEmbedding

        if name.strip() != "minilm":
            log.warning(
                "EMBED_MODEL=%s is deprecated: it now means the bundled fp32 MiniLM; set EMBED_MODEL=minilm",
                name.strip(),
            )
        return MiniLMEmbedding()
    from newsqa.index.retrieval.external import FastEmbedEmbedding, OpenAICompatibleEmbedding

    if kind == "fastembed":
        model, at, folder = rest.partition("@")
        if not at:
            model, folder = FastEmbedEmbedding.model_fields["model_name"].default, rest
        return FastEmbedEmbedding(model_name=model, model_dir=Path(folder).expanduser())
    return OpenAICompatibleEmbedding(
        model_name=rest, base_url=str(base_url), api_key=api_key, concurrency=concurrency
    )


def model_note(model_id: str) -> str | None:
    """What an embedding model id an index records was, when its id alone would not tell a user."""
    if model_id.startswith("minilm-int8:"):  # the ids MiniLMEmbedding recorded until 2026-11
        return "the int8 MiniLM newsqa bundled until 2026-11"
    return None
