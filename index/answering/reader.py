"""The trained reader: for a question and passages, each passage's best answer span and its margin.

A MiniLM-L6 fine-tuned in this repo (`bench/train_answerer.py`; model card `docs/answer-model.md`)
reads `[CLS] question [SEP] passage window [SEP]` and scores every token as the start or the end of
the answer; `[CLS]` stands for "no answer here". A passage's margin is its best span's score minus
its no-answer score; the chooser (`chooser.py`, loaded by `Reader.chooser`) turns margins and the
rules' measures into the passage to quote and the decision to abstain. The int8 ONNX file ships in
this package and is checked against a pinned sha256 before use, like the embedder; `reader.json`
beside it records how it was trained (and the reader-alone calibration the training figures use).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from newsqa.index.errors import AnswerModelError
from newsqa.index.retrieval.minilm import TOKENIZER_PACKAGE, TOKENIZER_SHA256, read_verified, tokenizer_file

if TYPE_CHECKING:
    from newsqa.index.answering.chooser import Chooser

CLS, SEP = 101, 102
MAX_LEN = 192  # word pieces in a window, question included (as trained)
STRIDE = 96  # a long passage is read in windows starting this many word pieces apart
MAX_QUESTION_TOKENS = 48
MAX_SPAN_TOKENS = 30
TOP_TOKENS = 20  # start and end candidates tried per window
MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_SHA256 = "ed1a7ed0ce8cc680a9030c05c1a0e215d85c43d9743f88d3436d647478c51b90"
# chooser.json, written by bench/fit_chooser.py --install
CHOOSER_SHA256 = "eef1acf92676ff12a94d05b18a7900af3156ce745f70412f1b6ee860b6278439"
_FIX = "the file ships with newsqa: restore it (git checkout index/answering/model) or reinstall newsqa"


@dataclass(frozen=True)
class Window:
    """One model input: ids, segment ids, and each token's character span in the passage."""

    ids: list[int]
    type_ids: list[int]
    offsets: list[tuple[int, int] | None]  # None for the question and the special tokens


@dataclass(frozen=True)
class Reading:
    """The best answer span the reader found in one passage."""

    margin: float  # span score minus no-answer score: above 0, the span beats "no answer here"
    start: int  # character offsets of the span in the passage text
    end: int


def windows(tokenizer: Any, question: str, passage: str) -> list[Window]:
    """`[CLS] question [SEP] part of passage [SEP]` windows that together cover the passage."""
    q = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    enc = tokenizer.encode(passage, add_special_tokens=False)
    room = MAX_LEN - len(q) - 3
    out: list[Window] = []
    start = 0
    while True:
        part = slice(start, start + room)
        ids = enc.ids[part]
        out.append(
            Window(
                [CLS, *q, SEP, *ids, SEP],
                [0] * (len(q) + 2) + [1] * (len(ids) + 1),
                [None] * (len(q) + 2) + list(enc.offsets[part]) + [None],
            )
        )
        if start + room >= len(enc.ids):
            return out
        start += STRIDE


def best_span(start: np.ndarray, end: np.ndarray, window: Window) -> tuple[float, int, int] | None:
    """The highest-scoring (start + end) passage span of a window: (score, first token, last token).

    A span made only of the question's own word pieces is skipped: it repeats the question ("What did
    spokesman Sean Parnell say …?" was answered "Sean Parnell")."""
    asked = set(window.ids[1 : window.type_ids.index(1) - 1]) if 1 in window.type_ids else set()
    best: tuple[float, int, int] | None = None
    for s in np.argsort(-start)[:TOP_TOKENS]:
        if window.offsets[s] is None:
            continue
        for e in np.argsort(-end)[:TOP_TOKENS]:
            if window.offsets[e] is None or e < s or e - s >= MAX_SPAN_TOKENS:
                continue
            if asked and asked.issuperset(window.ids[s : e + 1]):
                continue
            score = float(start[s] + end[e])
            if best is None or score > best[0]:
                best = (score, int(s), int(e))
    return best


class Reader:
    """The exported reader on onnxruntime; loads on first use. Thread-safe once loaded."""

    def __init__(
        self, model_dir: Path = MODEL_DIR, sha256: str = MODEL_SHA256, chooser_sha256: str = CHOOSER_SHA256
    ) -> None:
        self.model_dir = model_dir
        self.sha256 = sha256
        self.chooser_sha256 = chooser_sha256
        self._chooser: Any = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._meta: dict[str, Any] = {}
        self._lock = threading.Lock()
        # One reading at a time: onnxruntime already uses every core for one, and concurrent runs each
        # grow its memory arena (newsqa serve answers up to six chats at once: 942 MB peak unserialised).
        self._run_lock = threading.Lock()

    def load(self) -> None:
        """Check and load the model, its calibration and the tokenizer; AnswerModelError if any is bad."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
            from tokenizers import Tokenizer

            model = read_verified(
                self.model_dir / "reader.onnx", self.sha256, "newsqa", fix=_FIX, error=AnswerModelError
            )
            meta = _read_meta(self.model_dir / "reader.json")
            tokenizer = Tokenizer.from_str(
                read_verified(tokenizer_file(), TOKENIZER_SHA256, TOKENIZER_PACKAGE).decode("utf-8")
            )
            tokenizer.no_truncation()
            tokenizer.no_padding()
            options = ort.SessionOptions()
            options.intra_op_num_threads = min(4, os.cpu_count() or 1)
            # Every question reads windows of another shape, and onnxruntime keeps a memory plan per
            # shape: `newsqa serve` at 16x BBC grew from 497 to 765 MB over 200 questions with it,
            # to 576–631 MB without (bench/README.md, "Scaling").
            options.enable_mem_pattern = False
            try:
                session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf) as exc:
                raise AnswerModelError(f"onnxruntime cannot load the answer model: {exc}; {_FIX}") from None
            self._tokenizer, self._meta = tokenizer, meta
            self._session = session  # published last: load() is done once it is set

    @property
    def chooser(self) -> Chooser:
        """The chooser fitted on this reader's readings (chooser.py), checked by its pinned sha256."""
        if self._chooser is None:
            from newsqa.index.answering.chooser import Chooser

            path = self.model_dir / "chooser.json"
            data = read_verified(path, self.chooser_sha256, "newsqa", fix=_FIX, error=AnswerModelError)
            self._chooser = Chooser.from_bytes(data, path)
        return self._chooser

    @property
    def trained_on(self) -> list[str]:
        """The SQuAD articles the model was trained on (from its reader.json), for held-out measurement."""
        self.load()
        return list(self._meta.get("trained_on", []))

    def read(self, question: str, passages: list[str]) -> list[Reading | None]:
        """Each passage's best span (None when no span fits), in one batched model call."""
        self.load()
        wins: list[Window] = []
        owner: list[int] = []
        for n, text in enumerate(passages):
            for window in windows(self._tokenizer, question, text):
                wins.append(window)
                owner.append(n)
        out: list[Reading | None] = [None] * len(passages)
        if not wins:
            return out
        width = max(len(w.ids) for w in wins)
        ids = np.zeros((len(wins), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, w in enumerate(wins):
            ids[row, : len(w.ids)] = w.ids
            types[row, : len(w.ids)] = w.type_ids
            mask[row, : len(w.ids)] = 1
        with self._run_lock:
            start, end = self._session.run(
                None, {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
            )
        for row, w in enumerate(wins):
            n = len(w.ids)
            span = best_span(start[row, :n], end[row, :n], w)
            if span is None:
                continue
            score, first, last = span
            margin = score - float(start[row, 0] + end[row, 0])
            current = out[owner[row]]
            if current is None or margin > current.margin:
                first_offset, last_offset = w.offsets[first], w.offsets[last]
                assert first_offset is not None and last_offset is not None
                out[owner[row]] = Reading(margin, first_offset[0], last_offset[1])
        return out


def _read_meta(path: Path) -> dict[str, Any]:
    """The model's reader.json, checked whole (its calibration record included)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        for key in ("a", "b", "threshold"):
            float(meta["calibration"][key])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnswerModelError(f"cannot read the answer model's calibration {path} ({exc}); {_FIX}") from None
    return dict(meta)
