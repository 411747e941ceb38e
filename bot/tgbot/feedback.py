"""👍/👎 feedback: compact, validated button data and an append-only JSONL log `newsqa eval` can read.

One JSON object per line (format version 1):

    {"version": 1, "ts": "2026-01-01T12:00:00+00:00", "answer_id": "3f2a9c1b7d4e", "vote": "up",
     "question": "...", "answer": "...", "abstained": false,
     "sources": [{"n": 1, "source": "003_x.txt", "title": "...", "url": "https://..."}],
     "user_id": 42, "chat_id": 42}

`vote` is "up" or "down". The first vote removes the answer's buttons, so an answer normally has one
line; clicks that race in before that add more, and `read_feedback` keeps the last per answer and user.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newsqa.index.types import Answer

FORMAT_VERSION = 1
_DATA = re.compile(r"fb:([ud]):([0-9a-f]{12})")  # at most 17 bytes of Telegram's 64


def vote_data(answer_id: str, up: bool) -> str:
    """The callback data of a vote button."""
    if not re.fullmatch(r"[0-9a-f]{12}", answer_id):
        raise ValueError(f"answer_id must be 12 hex digits, got {answer_id!r}")
    return f"fb:{'u' if up else 'd'}:{answer_id}"


def parse_vote(data: str | None) -> tuple[str, str] | None:
    """(answer_id, "up"|"down") from callback data, or None when it is not ours or malformed."""
    match = _DATA.fullmatch(data or "")
    if match is None:
        return None
    return match.group(2), "up" if match.group(1) == "u" else "down"


@dataclass(frozen=True)
class FeedbackRecord:
    """One vote on one answer, with what was asked and answered."""

    answer_id: str
    vote: str
    question: str
    answer: str
    abstained: bool
    sources: list[dict[str, Any]]
    user_id: int | None
    chat_id: int | None
    ts: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PendingAnswers:
    """Recent answers by id, so a vote can be logged with its question; the oldest are forgotten."""

    def __init__(self, capacity: int = 2000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[str, Answer] = OrderedDict()

    def add(self, answer: Answer) -> str:
        answer_id = secrets.token_hex(6)
        self._items[answer_id] = answer
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return answer_id

    def get(self, answer_id: str) -> Answer | None:
        return self._items.get(answer_id)


def record_for(answer_id: str, vote: str, answer: Answer, *, user_id: int | None,
               chat_id: int | None) -> FeedbackRecord:
    sources = [{"n": c.n, "source": c.source, "title": c.title, "url": c.url} for c in answer.citations]
    return FeedbackRecord(answer_id, vote, answer.question, answer.answer, answer.abstained, sources,
                          user_id, chat_id)


class FeedbackLog:
    """Appends records to a JSONL file, one whole line per write (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: FeedbackRecord) -> None:
        line = json.dumps(record.to_json(), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)


def read_feedback(path: Path) -> list[FeedbackRecord]:
    """The votes in a feedback log, the last one per (answer, user); unreadable lines are skipped."""
    latest: dict[tuple[str, int | None], FeedbackRecord] = {}
    if not Path(path).is_file():
        return []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            record = FeedbackRecord(**{k: data[k] for k in FeedbackRecord.__dataclass_fields__ if k in data})
        except (ValueError, TypeError):
            continue
        if record.vote not in ("up", "down"):
            continue
        latest.pop((record.answer_id, record.user_id), None)
        latest[(record.answer_id, record.user_id)] = record
    return list(latest.values())
