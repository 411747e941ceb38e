"""The context of each conversation: its last few turns, forgotten when idle, reset on a new topic.

A conversation is whatever key the caller passes (`newsqa chat` one per session, the Telegram bot one
per private chat, per user in a group, or per reply thread). A follow-up is read in the context of
its conversation's recent turns (`followup.resolve`); a question that stands on its own starts the
context afresh. With an LLM configured, the service condenses the recent turns and the new message
into a standalone question instead (newsqa.index.llm) and falls back to `followup.resolve`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from newsqa.index.answering.followup import resolve
from newsqa.index.answering.referents import Turn

__all__ = ["Conversations", "Turn"]

MAX_CONVERSATIONS = 10_000


class Conversations:
    """The last `max_turns` turns of each conversation, none older than `idle_s` seconds."""

    def __init__(self, max_turns: int = 3, idle_s: float = 1800.0) -> None:
        if max_turns < 0:
            raise ValueError(f"max_turns must be 0 or more, got {max_turns}")
        if idle_s <= 0:
            raise ValueError(f"idle_s must be positive, got {idle_s}")
        self.max_turns = max_turns
        self.idle_s = idle_s
        self._turns: OrderedDict[str, list[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def recent(self, key: str | None) -> list[Turn]:
        """The conversation's remembered turns, oldest first; none once it has been idle `idle_s`."""
        if key is None:
            return []
        with self._lock:
            return self._live(key)

    def resolve(self, key: str | None, message: str) -> str | None:
        """`message` rewritten to stand on its own in its conversation, or None when it already does."""
        return resolve(message, self.recent(key))

    def remember(self, key: str | None, question: str, answer: str = "", *, follow_up: bool = True) -> None:
        """Add a turn (the question as answered); a question that was not a follow-up starts afresh."""
        if key is None or self.max_turns == 0:
            return
        turn = Turn(question, answer, time.monotonic())
        with self._lock:
            turns = self._live(key) if follow_up else []
            self._turns[key] = [*turns, turn][-self.max_turns :]
            self._turns.move_to_end(key)
            while len(self._turns) > MAX_CONVERSATIONS:
                self._turns.popitem(last=False)

    def _live(self, key: str) -> list[Turn]:
        turns = self._turns.get(key, [])
        return list(turns) if turns and time.monotonic() - turns[-1].at <= self.idle_s else []

    def forget(self, key: str) -> None:
        """Drop a conversation's context (`/new`)."""
        with self._lock:
            self._turns.pop(key, None)
