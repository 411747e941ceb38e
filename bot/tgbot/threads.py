"""Which conversation a Telegram message continues: the private chat, the user within a group, or the
thread of the bot's answer it replies to.

The key is what `QA.ask(chat_id=…)` keeps a conversation's context under, so a follow-up in a group
is read against the asker's own last question, not the last question anyone asked there, while a
reply to one of the bot's answers (by anyone) follows up on that answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from telegram import Chat, Message

MAX_THREADS = 5_000  # answers whose replies are remembered as follow-ups of their conversation


def own_key(chat: Chat, user_id: int) -> str:
    """The conversation a user has in a chat: the chat itself when private, else theirs in the group."""
    return str(chat.id) if chat.type == Chat.PRIVATE else f"{chat.id}:{user_id}"


class Threads:
    """The conversation each of the bot's recent answers belongs to, by (chat, message id)."""

    def __init__(self, size: int = MAX_THREADS) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self._size = size
        self._keys: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def key_for(self, message: Message, user_id: int) -> str:
        """The conversation `message` (from `user_id`) continues."""
        replied = message.reply_to_message
        if message.chat.type != Chat.PRIVATE and replied is not None:
            with self._lock:
                key = self._keys.get((message.chat.id, replied.message_id))
            if key is not None:
                return key
        return own_key(message.chat, user_id)

    def add(self, key: str, answers: list[Message]) -> None:
        """Replies to these messages of the bot will continue conversation `key`."""
        with self._lock:
            for sent in answers:
                self._keys[(sent.chat.id, sent.message_id)] = key
                self._keys.move_to_end((sent.chat.id, sent.message_id))
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
