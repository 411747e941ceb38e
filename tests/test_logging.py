"""Logging is set up once a process, with the bot's format under `newsqa serve`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What `newsqa serve` does: load_settings with the bot's format, then the bot's own logging set-up.
SERVE = """
import logging
from pathlib import Path
from newsqa.bot.common import BOT_LOG_FORMAT, load_settings
from newsqa.bot.tgbot.logs import configure_logging
settings = load_settings(None, None, None, None, Path("/nonexistent.env"), False, log_format=BOT_LOG_FORMAT,
                         telegram_bot_token="123456:" + "a" * 35)
configure_logging(settings)
logging.getLogger("newsqa.bot").warning("hello with %s", settings.telegram_bot_token)
"""


def test_the_bot_log_format_takes_effect_and_hides_the_token(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE], capture_output=True, text=True, cwd=tmp_path,
        env={"PATH": "", "PYTHONPATH": str(ROOT)}, check=True,
    )
    line = done.stderr.strip().splitlines()[-1]
    assert line[:4].isdigit() and line[4] == "-"  # asctime first: "2026-11-30 05:41:02,123 WARNING …"
    assert line.endswith("WARNING newsqa.bot: hello with <redacted>")
