"""Follow-up questions without an LLM: "and in Syria?" after "how many US troops are in Iraq?".

A small state per chat remembers the last few answered questions (with their answers). A new
message that is short or opens with a follow-up phrase is read in the context of the last one: the
new names replace the last question's final name ("…in Iraq?" → "…in Syria?"), or, when it names
nothing, its words are added to the last question. With an LLM configured, the service condenses
the recent turns and the new message into a standalone question instead (newsqa.index.llm).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from newsqa.index.text.names import entities

FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|what of|and what about|same for|then|or)\b[\s,]*", re.IGNORECASE
)
SHORT_WORDS = 4
MAX_CHATS = 10_000
FORGET_AFTER_S = 30 * 60
MAX_TURNS = 3  # recent exchanges kept per chat for condensing follow-ups


@dataclass(frozen=True)
class Turn:
    """One answered exchange of a chat."""

    question: str
    answer: str
    at: float


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
    """The last few answered questions of each chat, forgotten after half an hour."""

    def __init__(self) -> None:
        self._turns: OrderedDict[str, list[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def recent(self, chat_id: str | None) -> list[Turn]:
        """The chat's remembered turns, oldest first, none older than FORGET_AFTER_S."""
        if chat_id is None:
            return []
        with self._lock:
            turns = list(self._turns.get(chat_id, []))
        now = time.monotonic()
        return [t for t in turns if now - t.at <= FORGET_AFTER_S]

    def resolve(self, chat_id: str | None, message: str) -> str:
        """The question to answer for `message` in `chat_id` (rewritten when it is a follow-up)."""
        turns = self.recent(chat_id)
        if not turns:
            return message
        return rewrite(turns[-1].question, message) if is_follow_up(message) else message

    def remember(self, chat_id: str | None, question: str, answer: str = "") -> None:
        if chat_id is None:
            return
        with self._lock:
            turns = self._turns.get(chat_id, [])
            self._turns[chat_id] = [*turns, Turn(question, answer, time.monotonic())][-MAX_TURNS:]
            self._turns.move_to_end(chat_id)
            while len(self._turns) > MAX_CHATS:
                self._turns.popitem(last=False)

    def forget(self, chat_id: str) -> None:
        with self._lock:
            self._turns.pop(chat_id, None)
