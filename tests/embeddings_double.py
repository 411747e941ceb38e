"""A test double of an OpenAI-compatible embeddings server on 127.0.0.1 (not a model).

`POST /v1/embeddings` answers each input with `vector_of(text)`, in shuffled order with the right
`index` (as a real server may), after `delay_s`. The first requests can be scripted failures
(`Fault`: a status, a Retry-After header). It counts the requests in flight, so tests and
`bench/perf.py` can check how many a client sends at once (`GET /stats`).

`python tests/embeddings_double.py --delay-s 0.05 --dim 384` serves in a process of its own (the
benchmark's server, so its JSON work does not share the client's interpreter) and prints its URL.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def vector_of(text: str) -> list[float]:
    """What the double answers for `text` (dim 3): its length and a checksum tell texts apart."""
    return [float(len(text)), float(zlib.crc32(text.encode()) % 100_003), 1.0]


@lru_cache(maxsize=4)
def _unit_vectors_json(dim: int, count: int = 1024) -> list[str]:
    """`count` random unit vectors as JSON text: with `dim` > 3 a text gets one by its checksum, so
    replies cost the double next to nothing (a real server encodes in compiled code) and vectors are
    spread like a real model's (a realistic HNSW)."""
    vectors = np.random.default_rng(17).standard_normal((count, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [json.dumps([round(float(x), 6) for x in row]) for row in vectors]


@dataclass(frozen=True)
class Fault:
    """One scripted failure: an HTTP `status`, with `Retry-After: retry_after` when given."""

    status: int
    retry_after: str | None = None


@dataclass
class EmbeddingsDouble:
    """Scripted OpenAI-compatible embeddings server; `url` is its /v1 base once started."""

    delay_s: float = 0.0
    dim: int = 3  # vector length (a real model's 384 makes replies as large as a real server's)
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # arrival time, inputs, auth, status
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(
                {
                    "at": time.monotonic(),
                    "input": list(body["input"]),
                    "auth": handler.headers.get("Authorization"),
                    "status": fault.status if fault else 200,
                }
            )
        try:
            time.sleep(self.delay_s)
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                _reply(handler, fault.status, {"error": {"message": f"scripted {fault.status}"}}, headers)
                return
            if self.dim > 3:
                table = _unit_vectors_json(self.dim)
                picked = [table[zlib.crc32(t.encode()) % len(table)] for t in body["input"]]
                items = [f'{{"index": {i}, "embedding": {v}}}' for i, v in enumerate(picked)]
                model = json.dumps(body["model"])
                raw = f'{{"object": "list", "data": [{", ".join(items[::-1])}], "model": {model}}}'
                _reply(handler, 200, raw.encode())
                return
            data = [
                {"object": "embedding", "index": i, "embedding": vector_of(text)}
                for i, text in enumerate(body["input"])
            ]
            _reply(handler, 200, {"object": "list", "data": data[::-1], "model": body["model"]})
        finally:
            with self._lock:
                self.in_flight -= 1

    @contextmanager
    def serving(self) -> Iterator[EmbeddingsDouble]:
        """Serve on a free port of 127.0.0.1 for the duration of the block."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                double._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                with double._lock:
                    stats = {"requests": len(double.requests), "max_in_flight": double.max_in_flight}
                    if self.path == "/stats/reset":
                        double.requests.clear()
                        double.max_in_flight = 0
                _reply(self, 200, stats)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _reply(
    handler: BaseHTTPRequestHandler, status: int, payload: object, headers: dict[str, str] | None = None
) -> None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(raw)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve the embeddings double on 127.0.0.1 until killed.")
    parser.add_argument("--delay-s", type=float, default=0.05)
    parser.add_argument("--dim", type=int, default=384)
    options = parser.parse_args()
    _unit_vectors_json(options.dim)  # before the URL is printed: no request waits for it
    with EmbeddingsDouble(delay_s=options.delay_s, dim=options.dim).serving() as serving:
        print(serving.url, flush=True)
        threading.Event().wait()
