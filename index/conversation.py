"""Follow-up questions without an LLM: "and in Syria?" after "how many US troops are in Iraq?".

A small state per chat remembers the last question that was answered. A new message that is
short or opens with a follow-up phrase is read in its context: the new names replace the last
question's final name ("…in Iraq?" → "…in Syria?"), or, when it names nothing, its words are
added to the last question.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from index.question import entities

FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|what of|and what about|same for|then|or)\b[\s,]*", re.IGNORECASE
)
SHORT_WORDS = 4
MAX_CHATS = 10_000
FORGET_AFTER_S = 30 * 60


def is_follow_up(message: str) -> bool:
    words = re.findall(r"\w+", message)
    starts_like_one = bool(FOLLOW_UP.match(message))
    has_question_word = bool(
        re.match(r"\s*(who|what|when|where|why|how|which|is|are|does|did)\b", message, re.I)
    )
    return starts_like_one or (len(words) <= SHORT_WORDS and not has_question_word)


def rewrite(previous: str, message: str) -> str:
    """`message` read in the context of `previous`."""
    rest = FOLLOW_UP.sub("", message).strip().rstrip("?").strip()
    rest = re.sub(r"^(in|at|for|about|on|with|from|of)\s+", "", rest, flags=re.IGNORECASE)
    new_names = entities(rest)
    old_names = entities(previous)
    if new_names and old_names:
        last = old_names[-1]
        pattern = re.compile(r"\b" + r"[\s.]*".join(map(re.escape, last.split())) + r"\b", re.IGNORECASE)
        matches = list(pattern.finditer(previous))
        if matches:
            m = matches[-1]
            return previous[: m.start()] + rest + previous[m.end() :]
    return f"{previous.rstrip('?').strip()} {rest}?".strip()


class Conversations:
    """The last answered question of each chat, forgotten after half an hour."""

    def __init__(self) -> None:
        self._last: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, chat_id: str | None, message: str) -> str:
        """The question to answer for `message` in `chat_id` (rewritten when it is a follow-up)."""
        if chat_id is None:
            return message
        with self._lock:
            entry = self._last.get(chat_id)
        if entry is None or time.monotonic() - entry[1] > FORGET_AFTER_S:
            return message
        return rewrite(entry[0], message) if is_follow_up(message) else message

    def remember(self, chat_id: str | None, question: str) -> None:
        if chat_id is None:
            return
        with self._lock:
            self._last[chat_id] = (question, time.monotonic())
            self._last.move_to_end(chat_id)
            while len(self._last) > MAX_CHATS:
                self._last.popitem(last=False)

    def forget(self, chat_id: str) -> None:
        with self._lock:
            self._last.pop(chat_id, None)
