"""Remote embedding throughput (EMBED_MODEL=openai:…) against a local OpenAI-compatible double.

    python bench/perf_remote.py throughput '{"texts_from": "<corpus dir>", "texts": 2048}'
    python bench/perf_remote.py build '{"corpus": "<dir>", "index_dir": "<dir>", "concurrency": 4}'

The double (tests/embeddings_double.py) runs in a process of its own on 127.0.0.1 (as a real server
would: its JSON work does not share this interpreter) and sleeps `delay_s` (50 ms) per request
before answering 384-dimensional vectors, so what is measured is how well the client
keeps a server with a fixed latency busy: `throughput` times `embed_documents` alone at each
concurrency; `build` times a whole `QA.reindex()` (reading, chunking, Chroma writes) through it.
`perf.py --only remote` runs both. Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsqa.index.config import Settings  # noqa: E402
from newsqa.index.retrieval.external import OpenAICompatibleEmbedding  # noqa: E402
from newsqa.index.service import QA  # noqa: E402

DIMENSION = 384  # MiniLM's; replies as large as a real server's


@contextmanager
def double_server(delay_s: float) -> Iterator[str]:
    """The double in its own process; yields its /v1 URL (GET <root>/stats for its counters)."""
    cmd = [sys.executable, str(ROOT / "tests" / "embeddings_double.py"), "--delay-s", str(delay_s)]
    server = subprocess.Popen([*cmd, "--dim", str(DIMENSION)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait(timeout=10)


def stats(url: str, reset: bool = False) -> dict[str, int]:
    root = url.removesuffix("/v1")
    return dict(httpx.get(f"{root}/stats/reset" if reset else f"{root}/stats", timeout=10).json())


def chunk_like_texts(folder: Path, count: int, words: int = 150) -> list[str]:
    """`count` passages of about `words` words (a chunk's length) cut from the articles in `folder`."""
    out: list[str] = []
    for path in sorted(folder.rglob("*.txt")):
        tokens = path.read_bytes().decode("utf-8", "replace").split()
        out += [" ".join(tokens[i : i + words]) for i in range(0, max(1, len(tokens) - words // 2), words)]
        if len(out) >= count:
            break
    return out[:count]


def _embedder(url: str, concurrency: int, batch_size: int) -> OpenAICompatibleEmbedding:
    return OpenAICompatibleEmbedding(
        model_name="double", base_url=url, concurrency=concurrency, batch_size=batch_size
    )


def throughput(args: dict[str, Any]) -> dict[str, Any]:
    """Texts embedded per second at each concurrency, by `embed_documents` alone."""
    texts = chunk_like_texts(Path(args["texts_from"]), args.get("texts", 2048))
    delay, batch = args.get("delay_s", 0.05), args.get("batch_size", 32)
    out: dict[str, Any] = {"texts": len(texts), "delay_s": delay, "batch_size": batch, "runs": {}}
    with double_server(delay) as url:
        for concurrency in args.get("concurrency", [1, 4, 8]):
            embedder = _embedder(url, concurrency, batch)
            embedder.embed_documents(texts[: batch * concurrency])  # open the connections
            stats(url, reset=True)
            started = time.perf_counter()
            vectors = embedder.embed_documents(texts)
            seconds = time.perf_counter() - started
            embedder.close()
            served = stats(url)
            assert len(vectors) == len(texts)
            out["runs"][str(concurrency)] = {
                "seconds": seconds,
                "texts_per_s": len(texts) / seconds,
                "requests": served["requests"],
                "max_in_flight": served["max_in_flight"],
                # the ideal: every request slot busy for the whole run, nothing but the server's delay
                "ideal_s": -(-served["requests"] // concurrency) * delay,
            }
    base = out["runs"].get("1", {}).get("texts_per_s")
    for run in out["runs"].values():
        run["speed_up"] = run["texts_per_s"] / base if base else None
    return out


def build(args: dict[str, Any]) -> dict[str, Any]:
    """A full `QA.reindex()` of `corpus` through the double: seconds, chunks/s, peak RSS."""
    delay, concurrency = args.get("delay_s", 0.05), args["concurrency"]
    with double_server(delay) as url:
        embedder = _embedder(url, concurrency, args.get("batch_size", 64))
        settings = Settings(corpus_dir=Path(args["corpus"]), index_dir=Path(args["index_dir"]))
        qa = QA(settings, embedder=embedder)
        started = time.perf_counter()
        summary = qa.reindex(rebuild=True)
        seconds = time.perf_counter() - started
        embedder.close()
        served = stats(url)
    return {
        "concurrency": concurrency,
        "delay_s": delay,
        "seconds": seconds,
        "chunks": summary.chunks,
        "articles": summary.added + summary.updated + summary.unchanged,
        "chunks_per_s": summary.chunks / seconds,
        "requests": served["requests"],
        "max_in_flight": served["max_in_flight"],
        "server_wait_ideal_s": -(-served["requests"] // concurrency) * delay,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


TASKS = {"throughput": throughput, "build": build}

if __name__ == "__main__":
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.argv[2]))))
