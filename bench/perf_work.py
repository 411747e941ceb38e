"""Measurements that need a process of their own (peak RSS, a cold model): `perf.py` runs them.

`python bench/perf_work.py TASK ARGS_JSON` prints one JSON object on its last stdout line. Every task
goes through `index.service.QA`, the object the CLI and the bot use, so what is timed is what ships.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsqa.index.config import Settings  # noqa: E402
from newsqa.index.retrieval.minilm import (  # noqa: E402
    MAX_WORD_PIECES,
    TOKENIZER_PACKAGE,
    TOKENIZER_SHA256,
    MiniLMEmbedding,
    read_verified,
    tokenizer_file,
)
from newsqa.index.service import QA  # noqa: E402
from newsqa.index.store.records import embedding_text  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def word_pieces() -> Callable[[list[str]], list[int]]:
    """MiniLM word-piece counts (with [CLS]/[SEP], truncated as the model sees them)."""
    from tokenizers import Tokenizer

    raw = read_verified(tokenizer_file(), TOKENIZER_SHA256, TOKENIZER_PACKAGE)
    tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
    tokenizer.enable_truncation(MAX_WORD_PIECES)
    tokenizer.no_padding()
    return lambda texts: [len(e.ids) for e in tokenizer.encode_batch(texts)]


def qa_for(corpus: str, index_dir: str, embedder: Any = None, **overrides: Any) -> QA:
    answerer = os.environ.get("ANSWERER", "model")  # passed through by bench/perf.py
    settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index_dir), answerer=answerer, **overrides)
    return QA(settings, embedder=embedder)


def model(args: dict[str, Any]) -> dict[str, Any]:
    """The ceiling: MiniLM alone on 128-word-piece passages in batches of 32, and on real chunk texts."""
    count = word_pieces()
    words = Path(args["text_file"]).read_text(encoding="utf-8").split()
    passages, start = [], 0
    while len(passages) < args["passages"]:
        # ~0.75 words per word piece in news; trim to exactly 128 pieces including [CLS]/[SEP].
        end = start + 100
        while count([" ".join(words[start:end])])[0] < 128:
            end += 5
        while count([" ".join(words[start:end])])[0] > 128:
            end -= 1
        passages.append(" ".join(words[start:end]))
        start = end if end < len(words) - 400 else 0
    embedder = MiniLMEmbedding(batch_size=32)
    embedder.load()
    embedder.embed_documents(passages[:64])  # warm-up
    runs = []
    for _ in range(args["repeats"]):
        started = time.perf_counter()
        embedder.embed_documents(passages)
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    out: dict[str, Any] = {
        "passages": len(passages),
        "batch": 32,
        "word_pieces_per_passage": statistics.mean(count(passages)),
        "runs_s": runs,
        "passages_per_s": len(passages) / seconds,
        "word_pieces_per_s": sum(count(passages)) / seconds,
    }
    if args.get("chunks_file"):
        # The same model on a random sample of the real chunks: their lengths, their padding.
        texts = json.loads(Path(args["chunks_file"]).read_text(encoding="utf-8"))
        sample = random.Random(5).sample(texts, min(len(texts), args["passages"]))
        started = time.perf_counter()
        embedder.embed_documents(sample)
        seconds = time.perf_counter() - started
        out["real_chunks"] = {
            "passages": len(sample),
            "passages_per_s": len(sample) / seconds,
            "word_pieces_per_s": sum(count(sample)) / seconds,
        }
    return out


def build(args: dict[str, Any]) -> dict[str, Any]:
    """A full index build from scratch, timed by phase through the progress reports."""
    embedder = MiniLMEmbedding()
    if args.get("vectors_from"):
        embedder = CachedMiniLM.from_index(args["corpus"], args["vectors_from"])
    embedder.load()
    # A scaled corpus is built whole in one run: with MAX_REINDEX_CHUNKS (100,000) 16x stopped at
    # 100,002 chunks, and the queries' reindex then embedded the rest with the real model.
    cap = {"max_reindex_chunks": 10**7} if args.get("vectors_from") else {}
    qa = qa_for(args["corpus"], args["index_dir"], embedder, **cap)
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(p: Any) -> None:
        marks.setdefault(p.stage, time.perf_counter() - started)

    summary = qa.reindex(progress=progress)
    seconds = time.perf_counter() - started
    snapshot = qa.snapshot()
    texts = [embedding_text(c) for c in snapshot.chunks]
    if args.get("chunks_file"):
        Path(args["chunks_file"]).write_text(json.dumps(texts), encoding="utf-8")
    return {
        "articles": len(snapshot.documents),
        "skipped": summary.skipped,
        "chunks": summary.chunks,
        "seconds": seconds,
        "first_embedding_s": marks.get("embedding"),
        "word_pieces": sum(word_pieces()(texts)),
        "model_calls_s": getattr(embedder, "model_seconds", None),
        "peak_rss_mb": peak_rss_mb(),
    }


class CachedMiniLM(MiniLMEmbedding):
    """MiniLM that reuses vectors already stored for identical texts (scaled copies of a corpus)."""

    _cached: dict[str, list[float]] = PrivateAttr(default_factory=dict)
    _model_seconds: float = PrivateAttr(default=0.0)

    @property
    def model_seconds(self) -> float:
        return self._model_seconds

    @classmethod
    def from_index(cls, corpus: str, index_dir: str) -> CachedMiniLM:
        qa = qa_for(corpus, index_dir)
        snapshot = qa.snapshot()
        collection = qa.store._collection(snapshot.collection)
        got = collection.get(include=["embeddings", "documents", "metadatas"])
        vectors = {
            f"{meta['title']}\n\n{doc}": [float(x) for x in vec]
            for doc, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True)
        }
        embedder = cls()
        embedder._cached = vectors
        return embedder

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self._cached]
        if missing:
            started = time.perf_counter()
            self._cached.update(zip(missing, super()._embed_batch(missing), strict=True))
            self._model_seconds += time.perf_counter() - started
        return [self._cached[t] for t in texts]


def queries(args: dict[str, Any]) -> dict[str, Any]:
    """Warm query latency over a question list, with the per-stage medians `Answer.timings_ms` gives."""
    qa = qa_for(args["corpus"], args["index_dir"])
    qa.reindex()  # incremental: nothing when current; whole when built with another embedding model
    questions = args["questions"]
    qa.ask(questions[0]["q"])  # warm: model loaded, snapshot built
    walls, stages, hits = [], {}, 0
    for item in questions:
        started = time.perf_counter()
        answer = qa.ask(item["q"])
        walls.append((time.perf_counter() - started) * 1000)
        for stage, ms in answer.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
        # Scaled corpora hold identical copies (copyNN/…): any copy of the article counts.
        cited = {c.source.partition("/")[2] for c in answer.citations}
        hits += bool(item.get("source")) and item["source"].partition("/")[2] in cited
    return {
        "questions": len(questions),
        "p50_ms": percentile(walls, 50),
        "p95_ms": percentile(walls, 95),
        "mean_ms": statistics.mean(walls),
        "stage_p50_ms": {k: statistics.median(v) for k, v in stages.items()},
        "stage_p95_ms": {k: percentile(v, 95) for k, v in stages.items()},
        "hit_at_3": hits / len(questions) if questions[0].get("source") else None,
        "rss_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }


def incremental(args: dict[str, Any]) -> dict[str, Any]:
    """Reindex after changing one article, and with nothing changed; then the first ask after each."""
    qa = qa_for(args["corpus"], args["index_dir"])
    qa.embedder.load()
    question = args["question"]
    qa.ask(question)
    target = Path(args["corpus"]) / args["article"]
    original = target.read_bytes()
    one, none, first_ask = [], [], []
    try:
        for i in range(args["repeats"]):
            target.write_bytes(original + f"\n\nA late correction, number {i}.\n".encode())
            started = time.perf_counter()
            summary = qa.reindex()
            one.append(time.perf_counter() - started)
            assert summary.updated == 1, summary
            started = time.perf_counter()
            qa.ask(question)
            first_ask.append(time.perf_counter() - started)
            started = time.perf_counter()
            summary = qa.reindex()
            none.append(time.perf_counter() - started)
            assert summary.unchanged and not (summary.updated or summary.added), summary
    finally:
        target.write_bytes(original)
        qa.reindex()
    return {
        "one_changed_s": statistics.median(one),
        "nothing_changed_s": statistics.median(none),
        "first_ask_after_s": statistics.median(first_ask),
        "runs": {"one_changed": one, "nothing_changed": none, "first_ask_after": first_ask},
    }


TASKS = {"model": model, "build": build, "queries": queries, "incremental": incremental}

if __name__ == "__main__":
    result = TASKS[sys.argv[1]](json.loads(sys.argv[2]))
    print(json.dumps(result))
