"""Deep-link payloads that carry a question to the private chat: `t.me/<bot>?start=<payload>`.

Telegram allows 1-64 characters of A-Z a-z 0-9 _ - in a start payload, and anyone can type
`/start <anything>`, so a payload is signed and checked before its question is answered:

    q<question, base64url><tag>   the question itself, when its UTF-8 fits (up to 39 bytes)
    k<id, 16 chars><tag>          a random id into a bounded in-memory map of longer questions

`tag` is the first 8 bytes of HMAC-SHA256 over the rest of the payload (11 base64url characters),
keyed with a key derived from the bot token, so no one else can make a link the bot will follow.
A `k` link lives as long as the process and its entry (the last `MAX_LINKS` long questions); after
a restart it is reported as expired. No telegram import here: it is tested on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

MAX_PAYLOAD = 64  # Telegram's limit for a start parameter
MAX_LINKS = 10_000  # long questions remembered for `k` links
_TAG_CHARS = 11  # 8 bytes in base64url without padding
_ID_CHARS = 16  # 12 random bytes
_INLINE_ROOM = MAX_PAYLOAD - 1 - _TAG_CHARS  # 52 characters: 39 bytes of question
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


class PayloadError(ValueError):
    """A start payload the bot will not follow; the message is a sentence for the user."""


@dataclass(frozen=True)
class Link:
    """A deep link's payload and the question it carries."""

    payload: str
    question: str

    def url(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.payload}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DeepLinks:
    """Makes and checks signed start payloads for questions (thread-safe)."""

    def __init__(self, secret: str, *, size: int = MAX_LINKS) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self._key = hashlib.sha256(b"newsqa deep links\0" + secret.encode()).digest()
        self._size = size
        self._questions: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def _tag(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:8])

    def make(self, question: str) -> Link:
        """A link for `question`: the question itself when short enough, else an id remembered here."""
        encoded = _b64(question.encode())
        if len(encoded) <= _INLINE_ROOM:
            body = "q" + encoded
        else:
            body = "k" + _b64(secrets.token_bytes(12))
            with self._lock:
                self._questions[body] = question
                while len(self._questions) > self._size:
                    self._questions.popitem(last=False)
        return Link(body + self._tag(body), question)

    def question(self, payload: str) -> str:
        """The question a payload carries; PayloadError (saying why) for a forged, malformed,
        oversized or expired one."""
        if len(payload) > MAX_PAYLOAD:
            raise PayloadError(f"That link is too long ({len(payload)} characters; links have at most "
                               f"{MAX_PAYLOAD}), so it is not one of mine.")
        if not _ALPHABET.fullmatch(payload) or len(payload) <= 1 + _TAG_CHARS:
            raise PayloadError("That link is not one of mine (it is malformed).")
        body, tag = payload[:-_TAG_CHARS], payload[-_TAG_CHARS:]
        if not hmac.compare_digest(tag, self._tag(body)):
            raise PayloadError("That link is not one of mine (its signature does not match).")
        if body[0] == "k" and len(body) == 1 + _ID_CHARS:
            with self._lock:
                found = self._questions.get(body)
            if found is None:
                raise PayloadError("That link has expired (I was restarted since). Please send me "
                                   "the question again.")
            return found
        if body[0] == "q":
            try:
                question = _unb64(body[1:]).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                question = ""
            if question.strip():
                return question
        raise PayloadError("That link is not one of mine (it is malformed).")
