"""Who may use the bot: admins, allowlists, a per-user rate limit, the inline debounce (no telegram)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from newsqa.index.config import Settings


@dataclass(frozen=True)
class Access:
    """Admin and allowlist decisions from settings; with no allowlist everyone may ask."""

    admins: frozenset[int]
    users: frozenset[int]
    chats: frozenset[int]

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        return cls(settings.admin_user_ids, settings.allowed_user_ids, settings.allowed_chat_ids)

    @property
    def restricted(self) -> bool:
        """Whether an allowlist is set (so what one user is shown may not be shown to another)."""
        return bool(self.users or self.chats)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins

    def is_allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        """Admins always; else anyone when no allowlist is set; else a listed user or a listed chat."""
        if self.is_admin(user_id) or not self.restricted:
            return True
        return (user_id is not None and user_id in self.users) or (
            chat_id is not None and chat_id in self.chats
        )


class RateLimiter:
    """At most `per_minute` questions per user in any sliding 60 s window; 0 disables the limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 0:
            raise ValueError(f"per_minute must be 0 (no limit) or more, got {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def allow(self, user_id: int) -> bool:
        """Record a question from `user_id`; False when it is over the limit."""
        if not self.per_minute:
            return True
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= 60.0:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return False
        seen.append(now)
        self._warned.discard(user_id)
        return True

    def should_warn(self, user_id: int) -> bool:
        """True once per burst of refused questions, so a flood gets one "slow down" reply, not many."""
        if user_id in self._warned:
            return False
        self._warned.add(user_id)
        return True

    def retry_in(self, user_id: int) -> float:
        """Seconds until `user_id` may ask again."""
        seen = self._seen.get(user_id)
        if not seen or len(seen) < self.per_minute:
            return 0.0
        return max(0.0, 60.0 - (self._clock() - seen[0]))


class Debounce:
    """The newest inline query of each user, so that one typed on is dropped for the next keystroke's."""

    def __init__(self) -> None:
        self._latest: dict[int, str] = {}

    def arrived(self, user_id: int, query_id: str) -> None:
        """`user_id` typed on: their earlier queries are stale from now on."""
        self._latest[user_id] = query_id

    def settled(self, user_id: int, query_id: str) -> bool:
        """True when no newer query of `user_id` arrived since `query_id` (and forget it then)."""
        if self._latest.get(user_id) != query_id:
            return False
        del self._latest[user_id]
        return True
