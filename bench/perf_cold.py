"""Where a cold `newsqa ask` spends its time: run by `perf.py` in a fresh interpreter.

`python bench/perf_cold.py CORPUS INDEX_DIR QUESTION` follows the CLI's path step by step (imports,
service, store open, first ask) and prints the seconds of each step as JSON.
"""

from __future__ import annotations

import time

started = time.perf_counter()
marks: dict[str, float] = {}


def mark(name: str) -> None:
    marks[name] = time.perf_counter() - started - sum(marks.values())


import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import newsqa.bot.cli  # noqa: E402, F401

mark("import newsqa.bot.cli")
from newsqa.index.config import Settings  # noqa: E402
from newsqa.index.service import QA  # noqa: E402

mark("import newsqa.index.service")
answerer = os.environ.get("ANSWERER", "model")  # passed through by bench/perf.py
qa = QA(Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), answerer=answerer))
mark("QA()")
qa.has_index()
mark("open store")
answer = qa.ask(sys.argv[3])
mark("first ask")
marks["first ask: open (snapshot)"] = answer.timings_ms["open"] / 1000
marks["first ask: embed (model load)"] = answer.timings_ms["embed"] / 1000
marks["total in process"] = time.perf_counter() - started
print(json.dumps(marks))
