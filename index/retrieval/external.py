"""Embedders a user can switch to by configuration: fastembed on a local folder, or an
OpenAI-compatible embeddings endpoint. Neither is the default; see retrieval/registry.py."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from newsqa.index.errors import EmbeddingError
from newsqa.index.retrieval.embedding import NewsqaEmbedding

DEFAULT_FASTEMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class FastEmbedEmbedding(NewsqaEmbedding):
    """fastembed's TextEmbedding on a local model folder, never touching the network."""

    model_name: str = DEFAULT_FASTEMBED_MODEL
    model_dir: Path
    _model: Any = PrivateAttr(default=None)
    _model_id: str = PrivateAttr(default="")

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        try:
            from fastembed import TextEmbedding
        except ImportError:
            raise EmbeddingError(
                "EMBED_MODEL=fastembed:… needs fastembed, which is not installed: pip install fastembed"
            ) from None
        if not self.model_dir.is_dir():
            raise EmbeddingError(f"fastembed model folder {self.model_dir} does not exist")
        digest = hashlib.sha256()
        for path in sorted(self.model_dir.rglob("*")):
            if path.suffix in (".onnx", ".json", ".txt") and path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        self._model_id = f"fastembed:{self.model_name}:{digest.hexdigest()[:12]}"
        self._model = TextEmbedding(
            model_name=self.model_name, specific_model_path=str(self.model_dir), local_files_only=True
        )

    @classmethod
    def class_name(cls) -> str:
        return "FastEmbedEmbedding"

    @property
    def model_id(self) -> str:
        return self._model_id

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        return [np.asarray(v, dtype=np.float32).tolist() for v in self._model.embed(texts)]


class OpenAICompatibleEmbedding(NewsqaEmbedding):
    """An OpenAI-compatible `POST {base_url}/embeddings` endpoint; `base_url` ends in /v1 as for OpenAI."""

    model_name: str
    base_url: str
    timeout: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=64, gt=0, le=2048)
    _api_key: str | None = PrivateAttr(default=None)
    _client: Any = PrivateAttr(default=None)

    def __init__(self, *, api_key: str | None = None, **data: Any) -> None:
        super().__init__(**data)
        import httpx

        if not self.base_url.startswith(("http://", "https://")):
            raise EmbeddingError(f"EMBED_BASE_URL must start with http:// or https://, got {self.base_url!r}")
        self._api_key = api_key or None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # httpx.Client is safe to share between threads; one pool serves every caller.
        self._client = httpx.Client(headers=headers, timeout=self.timeout)

    @classmethod
    def class_name(cls) -> str:
        return "OpenAICompatibleEmbedding"

    @property
    def model_id(self) -> str:
        return f"openai:{self.model_name}@{self._url.split('://', 1)[1]}"

    @property
    def _url(self) -> str:
        return self.base_url.rstrip("/") + "/embeddings"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        import httpx

        try:
            response = self._client.post(self._url, json={"model": self.model_name, "input": texts})
            response.raise_for_status()
            items = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in items]
        except httpx.HTTPStatusError as exc:
            body = self._redact(exc.response.text[:200])
            raise EmbeddingError(
                f"embedding endpoint {self._url} answered HTTP {exc.response.status_code}: {body}",
                status=exc.response.status_code,
            ) from None
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"cannot reach embedding endpoint {self._url}: {self._redact(str(exc)) or type(exc).__name__}"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"embedding endpoint {self._url} sent a malformed reply ({exc!r})") from None
        if len(vectors) != len(texts):
            raise EmbeddingError(
                f"embedding endpoint {self._url} returned {len(vectors)} vectors for {len(texts)} texts"
            )
        return vectors
