"""Memory of `newsqa serve`: the real bot in its own process, polling the Bot API emulator on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB; RssAnon (the heap) and RssFile (mapped files
    paged in: libraries, the memory-mapped BM25 and chunk files) split VmRSS."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def serve_memory(corpus: Path, index_dir: Path, work: Path, questions: list[str]) -> dict[str, Any]:
    """RSS of the bot idle (ready, nothing asked), then after answering every question."""
    sys.path.insert(0, str(ROOT))
    from newsqa.index.config import Settings
    from tests.botapi_emulator import BotApiEmulator

    names = {f.upper() for f in Settings.model_fields} - {"ANSWERER"}  # as bench/perf.py's _env()
    env = {k: v for k, v in os.environ.items() if k not in names}
    with BotApiEmulator() as emulator:
        env.update(
            CORPUS_DIR=str(corpus),
            INDEX_DIR=str(index_dir),
            TELEGRAM_BOT_TOKEN=emulator.token,
            TELEGRAM_BASE_URL=emulator.base_url,
            FEEDBACK_LOG=str(work / "feedback.jsonl"),
            RATE_LIMIT_PER_MINUTE="0",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        started = time.perf_counter()
        with (work / "serve.log").open("wb") as log:
            bot = subprocess.Popen(
                [sys.executable, "-m", "newsqa", "serve", "--env-file", os.devnull],
                env=env,
                cwd=work,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            emulator.wait_for("getUpdates", timeout=60)
            ready_s = time.perf_counter() - started
            time.sleep(1.0)
            idle = _status(bot.pid)
            started = time.perf_counter()
            for n, question in enumerate(questions):
                emulator.send(question, user=500_000 + n % 20)
            emulator.wait_for("sendMessage", count=len(questions), timeout=60 + 2 * len(questions))
            answered_s = time.perf_counter() - started
            after = _status(bot.pid)
        finally:
            bot.terminate()
            try:
                bot.wait(timeout=20)
            except subprocess.TimeoutExpired:
                bot.kill()
    return {
        "ready_s": ready_s,
        "idle_rss_mb": idle["VmRSS"],
        "idle_peak_rss_mb": idle["VmHWM"],
        "questions": len(questions),
        "answered_s": answered_s,
        "after_rss_mb": after["VmRSS"],
        "after_peak_rss_mb": after["VmHWM"],
        "after_rss_anon_mb": after.get("RssAnon"),
        "after_rss_file_mb": after.get("RssFile"),
    }
