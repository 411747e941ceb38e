"""Embedders by name: the one place that turns `Settings.embed_model` into a llama-index embedder.

Accepted names:

    minilm-int8                       the bundled model (default; retrieval/minilm.py)
    fastembed:<dir>                   fastembed on a local model folder (all-MiniLM-L6-v2 layout)
    fastembed:<model name>@<dir>      the same, for another model fastembed knows
    openai:<model>                    an OpenAI-compatible /v1/embeddings endpoint at `base_url`

Every embedder subclasses `retrieval.embedding.NewsqaEmbedding`; the modules that define them never
import this one, so there is no cycle between them.
"""

from __future__ import annotations

from pathlib import Path

from newsqa.index.errors import EmbeddingError
from newsqa.index.retrieval.embedding import NewsqaEmbedding


def make_embedder(name: str, *, base_url: str | None = None, api_key: str | None = None) -> NewsqaEmbedding:
    """The embedder that `name` (Settings.embed_model) selects; raises EmbeddingError if it is invalid."""
    kind, sep, rest = name.strip().partition(":")
    if name.strip() == "minilm-int8":
        from newsqa.index.retrieval.minilm import MiniLMEmbedding

        return MiniLMEmbedding()
    from newsqa.index.retrieval.external import FastEmbedEmbedding, OpenAICompatibleEmbedding

    if sep and kind == "fastembed" and rest:
        model, at, folder = rest.partition("@")
        if not at:
            model, folder = FastEmbedEmbedding.model_fields["model_name"].default, rest
        return FastEmbedEmbedding(model_name=model, model_dir=Path(folder).expanduser())
    if sep and kind == "openai" and rest:
        if not base_url:
            raise EmbeddingError(f"EMBED_MODEL={name} needs EMBED_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
        return OpenAICompatibleEmbedding(model_name=rest, base_url=base_url, api_key=api_key)
    raise EmbeddingError(
        f"unknown EMBED_MODEL {name!r}; use minilm-int8, fastembed:<local model dir>, "
        "fastembed:<model name>@<local model dir> or openai:<model name>"
    )
