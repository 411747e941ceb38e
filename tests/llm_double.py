"""A test double of an OpenAI-compatible LLM server on 127.0.0.1: scripted chat completions.

`POST /v1/chat/completions` pops the next scripted `Reply` (or builds one with `respond`), and
answers it as JSON, or as server-sent events when the request asks to stream. A reply can be
slow (to trip the client's timeout), an HTTP error, or a body that is not JSON. Every request is
recorded, so tests can check what was sent (or that nothing was).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted completion: `text`, or an HTTP `status`, a raw `body`, after `delay_s`."""

    text: str = ""
    status: int = 200
    body: bytes | None = None  # sent as is (e.g. malformed JSON) instead of a completion
    delay_s: float = 0.0  # before the first byte
    piece_delay_s: float = 0.0  # between streamed pieces (words)
    stall_after: int | None = None  # streaming: stop after this many pieces and hang


@dataclass
class LLMTestDouble:
    """Test double of an OpenAI-compatible chat completions server (not a real LLM)."""

    replies: list[Reply | Callable[[dict[str, Any]], Reply]] = field(default_factory=list)
    respond: Callable[[dict[str, Any]], Reply] | None = None  # used when `replies` is empty
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> LLMTestDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                double._serve(self, self.path, json.loads(body or b"{}"), dict(self.headers))

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        with self._lock:
            self.replies.extend(replies)

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            scripted = self.replies.pop(0) if self.replies else self.respond
        if scripted is None:
            return Reply(status=500, body=b'{"error": {"message": "test double: nothing scripted"}}')
        return scripted if isinstance(scripted, Reply) else scripted(request)

    def _serve(
        self, handler: BaseHTTPRequestHandler, path: str, request: dict[str, Any], headers: dict[str, str]
    ) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
        if not path.endswith("/chat/completions"):
            handler.send_error(404)
            return
        reply = self._next(request)
        if reply.delay_s and self._stop.wait(reply.delay_s):
            return
        try:
            if reply.body is not None or reply.status != 200:
                _send(handler, reply.status, "application/json", reply.body or b"{}")
            elif request.get("stream"):
                _send_stream(handler, request, reply, self._stop)
            else:
                _send(handler, 200, "application/json", json.dumps(_completion(request, reply.text)).encode())
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass


def _send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _completion(request: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "double"),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _send_stream(
    handler: BaseHTTPRequestHandler, request: dict[str, Any], reply: Reply, stop: threading.Event
) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    pieces = re.findall(r"\S+\s*", reply.text) or [""]
    for i, piece in enumerate(pieces):
        if i == reply.stall_after:
            stop.wait(30)
            return
        if i and reply.piece_delay_s and stop.wait(reply.piece_delay_s):
            return
        chunk = {
            "id": "chatcmpl-double",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.get("model", "double"),
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": piece} if i == 0 else {"content": piece},
                    "finish_reason": "stop" if i == len(pieces) - 1 else None,
                }
            ],
        }
        handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.flush()
    handler.wfile.write(b"data: [DONE]\n\n")
    handler.wfile.flush()


def prompt_of(request: dict[str, Any]) -> str:
    """All message contents of a chat request, joined."""
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []))


def source_number(request: dict[str, Any], phrase: str) -> int:
    """The number [n] of the first source in the prompt whose passage contains `phrase`."""
    blocks = re.split(r"^\[(\d+)\] ", prompt_of(request), flags=re.M)
    for n, block in zip(blocks[1::2], blocks[2::2], strict=True):
        if phrase in block:
            return int(n)
    raise AssertionError(f"no source in the prompt contains {phrase!r}")


def cited(template: str, like: Reply = Reply(), **phrases: str) -> Callable[[dict[str, Any]], Reply]:
    """A reply whose `{name}` markers become the number of the source containing `phrases[name]`."""

    def build(request: dict[str, Any]) -> Reply:
        return replace(
            like, text=template.format(**{k: source_number(request, v) for k, v in phrases.items()})
        )

    return build
