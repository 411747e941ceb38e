"""Bounding a call that has no timeout of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def within(seconds: float, fn: Callable[[], Any], name: str = "newsqa-deadline") -> Any:
    """fn()'s result, or TimeoutError after `seconds` (fn keeps running in a daemon thread).

    For calls with no timeout of their own, such as connecting chromadb's HTTP client; `name` names
    the thread."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
