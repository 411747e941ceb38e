"""Recall and speed of the dense search on disk (index/store/vectors.py) against exact search, on BBC.

    python bench/vectors_recall.py --index /tmp/perf/index-1x --copies 1,16,64

Reads the live chunks' vectors of a BBC index that bench/perf.py built (its `index-1x`), tiles them
`copies` times as perf.py's scaled corpora do (N copies of every article: N equal vectors), and for
each list size and NPROBE writes the files with `write_vectors` and asks 200 BBC headline questions
and 100 questions made from chunk openings, without and with time windows (BBC is undated: each
article gets a day from its name's hash, spread over 2024-2025). Recall@k counts the found chunks
at least as similar as the exact k-th (equal vectors make ties). Prints one JSON line per setting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from perf import bbc_questions  # noqa: E402

from newsqa.index.config import Settings  # noqa: E402
from newsqa.index.service import QA  # noqa: E402
from newsqa.index.store import vectors  # noqa: E402
from newsqa.index.store.records import record_id  # noqa: E402

K = 40  # hybrid.retrieve asks the dense side for candidates + 10
WINDOWS = [None, (20250101, 20251231), (20250301, 20250331), (20250312, 20250318)]


def _day(source: str) -> int:
    n = int(hashlib.sha256(source.split("/", 1)[-1].encode()).hexdigest()[:8], 16) % 730
    day = np.datetime64("2024-01-01") + np.timedelta64(n, "D")
    return int(str(day).replace("-", ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--index", type=Path, required=True, help="INDEX_DIR of a BBC index (perf.py's index-1x)"
    )
    parser.add_argument("--copies", default="1,16", help="tile factors, comma-separated")
    parser.add_argument("--list-rows", default="128,256,512", help="LIST_ROWS values")
    parser.add_argument("--nprobe", default="8,16,24,32,48", help="NPROBE values")
    args = parser.parse_args()
    qa = QA(Settings(index_dir=args.index, corpus_dir=args.index / "unused"))
    snapshot = qa.snapshot()
    chunks = list(snapshot.chunks)
    ids = [record_id(c.source, c.n, snapshot.versions[c.source]) for c in chunks]
    base = np.concatenate(list(qa.store.embeddings(snapshot.collection, ids)))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    base_days = np.array([_day(c.source) for c in chunks], dtype=np.int64)
    rng = np.random.default_rng(5)
    texts = [q["q"] for q in bbc_questions(200)]
    texts += [
        "What about " + " ".join(chunks[i].text.split()[:8]) + "?" for i in rng.choice(len(chunks), 100)
    ]
    queries = np.array([qa.embedder.get_query_embedding(t) for t in texts], dtype=np.float32)
    for copies in [int(c) for c in args.copies.split(",")]:
        rows, days = np.tile(base, (copies, 1)), np.tile(base_days, copies)
        exact = queries @ rows.T  # every question's similarity to every row
        settings = [(0, 1)] if len(rows) < vectors.IVF_FROM and copies == 1 else []
        settings += [
            (lr, p) for lr in map(int, args.list_rows.split(",")) for p in map(int, args.nprobe.split(","))
        ]
        for list_rows, nprobe in settings:
            vectors.IVF_FROM = 1 << 40 if list_rows == 0 else 0  # 0: exact (one list)
            vectors.LIST_ROWS, vectors.NPROBE = max(list_rows, 1), nprobe
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                vectors.write_vectors(
                    Path(folder), (rows[i : i + 2000] for i in range(0, len(rows), 2000)), days
                )
                written = time.perf_counter() - started
                disk = vectors.DiskVectors(Path(folder), days)
                result = {"copies": copies, "rows": len(rows), "lists": len(disk._centroids),
                          "list_rows": list_rows, "nprobe": nprobe, "write_s": round(written, 1)}  # fmt: skip
                for window in WINDOWS:
                    keep = (
                        np.ones(len(rows), bool)
                        if window is None
                        else (days >= window[0]) & (days <= window[1])
                    )
                    recalls, times = [], []
                    for query, similarity in zip(queries, exact, strict=True):
                        t = time.perf_counter()
                        found = disk.search(query, K, window)
                        times.append(time.perf_counter() - t)
                        scores = np.where(keep, similarity, -2.0)
                        kth = np.sort(scores)[-min(K, int(keep.sum()))]
                        recalls.append(sum(s >= kth - 1e-6 for _, s in found) / min(K, int(keep.sum())))
                    name = "all" if window is None else f"{window[0]}-{window[1]}"
                    result[name] = {
                        "recall": round(float(np.mean(recalls)), 4),
                        "min": round(float(np.min(recalls)), 3),
                        "p50_ms": round(float(np.percentile(times, 50)) * 1000, 2),
                        "p95_ms": round(float(np.percentile(times, 95)) * 1000, 2),
                        "in_window": int(keep.sum()),
                    }
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
