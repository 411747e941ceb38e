"""Showing an LLM answer while it is written: one message, edited at most once a second.

`QA.ask_stream` runs in a worker thread and yields the verified text so far, then the final
`Answer`. The first text is sent as a reply; later ones edit that message, no more than once per
EDIT_EVERY_S (Telegram's flood limits); the final edit shows the rendered answer with its sources.
Without an LLM the stream is just the `Answer`, and it is sent as an ordinary reply. In private chats
`drafts.DraftReply` shows the partial texts as a native draft instead of editing a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ChatType
from telegram.error import TelegramError

from newsqa.bot.tgbot.messaging import EDIT_EVERY_S, edit_html, reply_html
from newsqa.index.types import Answer

log = logging.getLogger(__name__)

WRITING = " …"  # shown after a partial answer


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_DONE = object()


async def in_thread(items: Iterator[str | Answer]) -> AsyncIterator[str | Answer]:
    """Run a blocking iterator in a worker thread, handing its items to the event loop as they come."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def pump() -> None:
        try:
            for item in items:
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as exc:  # handed to the event loop and re-raised there
            loop.call_soon_threadsafe(queue.put_nowait, _Failed(exc))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = asyncio.create_task(asyncio.to_thread(pump))
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        await worker


class StreamedReply:
    """A reply that starts as partial text and is edited, at most once per `every_s`, to the answer."""

    def __init__(self, question: Message, every_s: float = EDIT_EVERY_S) -> None:
        self.question = question
        self.every_s = every_s
        self.message: Message | None = None
        self._shown = ""
        self._pending: str | None = None
        self._last_at = float("-inf")

    def _room(self) -> float:
        """Seconds until the next edit is allowed."""
        return max(0.0, self._last_at + self.every_s - asyncio.get_running_loop().time())

    def flush_in(self) -> float | None:
        """Seconds until the waiting text may be shown; None when nothing waits."""
        return None if self._pending is None else self._room()

    async def update(self, text: str) -> None:
        """Show `text` now if allowed, else remember it for `flush`."""
        self._pending = text
        if self._room() == 0:
            await self.flush()

    async def flush(self) -> None:
        text, self._pending = self._pending, None
        if text is None or text == self._shown:
            return
        self._shown = text
        self._last_at = asyncio.get_running_loop().time()
        await self._show(text)

    async def _show(self, text: str) -> None:
        """Show the partial `text`: the first time as a reply, then by editing that reply."""
        try:
            if self.message is None:
                quote = self.question.chat.type != ChatType.PRIVATE
                self.message = await self.question.reply_text(text + WRITING, do_quote=quote)
            else:
                await self.message.edit_text(text + WRITING)
        except TelegramError as exc:  # a lost partial costs nothing: the final text follows
            log.warning("could not show the partial answer: %s", exc)

    async def finish(self, texts: list[str], reply_markup: InlineKeyboardMarkup | None) -> list[Message]:
        """The final answer: the streamed message edited to the first part, further parts as replies;
        returns the messages that hold it."""
        if self.message is None:
            return await reply_html(self.question, texts, reply_markup=reply_markup)
        await asyncio.sleep(self._room())
        first_markup = reply_markup if len(texts) == 1 else None
        try:
            await edit_html(self.message, texts[0], first_markup)
        except TelegramError as exc:
            log.warning("could not edit the streamed answer (%s); sending it as a new message", exc)
            return await reply_html(self.question, texts, reply_markup=reply_markup)
        if len(texts) > 1:
            return [self.message, *await reply_html(self.question, texts[1:], reply_markup=reply_markup)]
        return [self.message]


async def stream_answer(reply: StreamedReply, items: Iterator[str | Answer]) -> Answer:
    """Show the partial texts of `items` through `reply`; return the final Answer (not yet shown)."""
    final: Answer | None = None
    stream = in_thread(items)
    pending: asyncio.Task[str | Answer] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(stream))
            done, _ = await asyncio.wait({pending}, timeout=reply.flush_in())
            if not done:  # nothing new for a while: show what is waiting
                await reply.flush()
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                break
            pending = None
            if isinstance(item, Answer):
                final = item
            else:
                await reply.update(item)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return final
