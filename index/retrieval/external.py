"""Embedders a user can switch to by configuration: fastembed on a local folder, or an
OpenAI-compatible embeddings endpoint. Neither is the default; see retrieval/registry.py."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from newsqa.index.errors import EmbeddingError
from newsqa.index.retrieval.embedding import NewsqaEmbedding

DEFAULT_FASTEMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_WAIT_S = 60.0  # the longest pause between two tries, whatever Retry-After asks

log = logging.getLogger(__name__)


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

    @property
    def model_id(self) -> str:
        return self._model_id

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        return [np.asarray(v, dtype=np.float32).tolist() for v in self._model.embed(texts)]


class OpenAICompatibleEmbedding(NewsqaEmbedding):
    """An OpenAI-compatible `POST {base_url}/embeddings` endpoint; `base_url` ends in /v1 as for OpenAI.

    `concurrency` batches are in flight at once. A 429, a 5xx or a dropped connection is tried again
    up to `retries` times, waiting as the server's `Retry-After` says (at most MAX_WAIT_S), else
    `backoff_s` doubled at each try, with jitter. Errors name the URL, never the key."""

    model_name: str
    base_url: str
    timeout: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=64, gt=0, le=2048)
    concurrency: int = Field(default=4, ge=1, le=64)
    retries: int = Field(default=5, ge=0, le=20)
    backoff_s: float = Field(default=0.5, ge=0, le=MAX_WAIT_S)
    _api_key: str | None = PrivateAttr(default=None)
    _client: Any = PrivateAttr(default=None)

    def __init__(self, *, api_key: str | None = None, **data: Any) -> None:
        super().__init__(**data)
        import httpx

        if not self.base_url.startswith(("http://", "https://")):
            raise EmbeddingError(f"EMBED_BASE_URL must start with http:// or https://, got {self.base_url!r}")
        # The indexer hands us embed_batch_size texts per call: enough for every slot in flight, twice.
        self.embed_batch_size = min(2048, max(self.embed_batch_size, 2 * self.batch_size * self.concurrency))
        self._api_key = api_key or None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # httpx.Client is safe to share between threads; one pool serves every batch in flight.
        limits = httpx.Limits(
            max_connections=max(10, self.concurrency), max_keepalive_connections=self.concurrency
        )
        self._client = httpx.Client(headers=headers, timeout=self.timeout, limits=limits)

    @property
    def model_id(self) -> str:
        return f"openai:{self.model_name}@{self._url.split('://', 1)[1]}"

    @property
    def _url(self) -> str:
        """The endpoint as errors and logs show it: credentials in the URL itself are masked."""
        url = self._endpoint
        scheme, sep, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        if "@" in host:
            host = "***@" + host.rsplit("@", 1)[1]
        return f"{scheme}{sep}{host}{slash}{path}"

    @property
    def _endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/embeddings"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        for attempt in range(self.retries + 1):
            try:
                return self._post(texts)
            except _Transient as transient:
                if attempt == self.retries:
                    tries = f" (gave up after {attempt + 1} tries)" if attempt else ""
                    raise EmbeddingError(f"{transient.error}{tries}", **transient.error.context) from None
                pause = transient.wait_s
                if pause is None:
                    pause = self.backoff_s * 2**attempt * random.uniform(0.8, 1.2)
                pause = min(pause, MAX_WAIT_S)
                log.warning(
                    "%s; trying again in %.1f s (%d of %d)", transient.error, pause, attempt + 1, self.retries
                )
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _post(self, texts: list[str]) -> list[list[float]]:
        """One request; raises _Transient for what may succeed when tried again."""
        import httpx

        try:
            response = self._client.post(self._endpoint, json={"model": self.model_name, "input": texts})
            response.raise_for_status()
            items = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in items]
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            body = self._redact(exc.response.text[:200])
            error = EmbeddingError(
                f"embedding endpoint {self._url} answered HTTP {status}: {body}", status=status
            )
            if status in RETRY_STATUSES:
                raise _Transient(error, _retry_after(exc.response.headers.get("Retry-After"))) from None
            raise error from None
        except httpx.TransportError as exc:
            reason = self._redact(str(exc)) or type(exc).__name__
            raise _Transient(
                EmbeddingError(f"cannot reach embedding endpoint {self._url}: {reason}")
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


class _Transient(Exception):
    """A failed request worth trying again: the error to raise if not, and the wait the server asked for."""

    def __init__(self, error: EmbeddingError, wait_s: float | None = None) -> None:
        super().__init__(str(error))
        self.error, self.wait_s = error, wait_s


def _retry_after(header: str | None) -> float | None:
    """Seconds a `Retry-After` header asks for (seconds or an HTTP date); None if absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
