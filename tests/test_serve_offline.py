"""`newsqa serve` while Telegram cannot be reached: one line, no traceback, retries until it can.

The real command in a subprocess, pointed at a closed port on 127.0.0.1; the Bot API emulator then
opens that port, and the bot must start on one of its retries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .botapi_emulator import TOKEN, BotApiEmulator
from .chroma_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _wait_for_text(path: Path, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = path.read_text(encoding="utf-8", errors="replace")
        if text in log:
            return log
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{path.read_text(errors='replace')}")


def test_serve_says_once_that_telegram_is_unreachable_and_starts_when_it_is(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "INDEX_DIR": str(tmp_path / "index"),
        "CORPUS_DIR": str(tmp_path / "corpus"),
    }
    command = [sys.executable, "-m", "newsqa", "serve", "--env-file", os.devnull]
    with open(log_path, "wb") as log, subprocess.Popen(command, env=env, stderr=log, stdout=log) as bot:
        try:
            _wait_for_text(log_path, "cannot reach Telegram", 60)
            time.sleep(2)  # a few retries more, each of which must stay quiet
            assert bot.poll() is None, "serve gave up instead of retrying"
            with BotApiEmulator(port=port) as emulator:
                emulator.wait_for("getUpdates", timeout=60)
                ready = _wait_for_text(log_path, "newsqa bot @", 30)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(30)
    lines = ready.splitlines()
    assert [line for line in lines if "cannot reach Telegram" in line] == [
        next(line for line in lines if "cannot reach Telegram" in line)
    ]
    assert f"cannot reach Telegram at 127.0.0.1:{port}" in ready and "retrying with backoff" in ready
    assert "Traceback" not in ready and TOKEN not in ready and TOKEN.split(":")[1] not in ready
    assert len(lines) < 10, ready
