"""Sending to Telegram robustly: HTML with a plain-text fallback, one retry on network errors, typing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut

from newsqa.bot.tgbot.render import MAX_MESSAGE, plain_text, split_text

log = logging.getLogger(__name__)
T = TypeVar("T")
_RESPONSE_LOST = (httpx.RemoteProtocolError, httpx.ReadError)
RETRY_DELAY_S = 1.0
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for about 5 s
EDIT_EVERY_S = 1.0  # Telegram tolerates about one edit per second per message


def _rejected_html(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


async def _once_more(call: Callable[[], Awaitable[T]]) -> T:
    """Call; after a network error (not a rejection, not an ambiguous timeout) wait and call again.

    A connection dropped after the request went out is ambiguous too: Telegram may have sent the
    message, and the Bot API has no idempotency key, so resending could answer twice. Not retried.
    """
    try:
        return await call()
    except NetworkError as exc:
        if isinstance(exc, (BadRequest, TimedOut)) or isinstance(exc.__cause__, _RESPONSE_LOST):
            raise
        log.warning("Telegram request failed (%s); retrying once", exc)
        await asyncio.sleep(RETRY_DELAY_S)
        return await call()


async def reply_html(message: Message, texts: list[str],
                     reply_markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Reply with each HTML text (the markup under the last); resend as plain text if HTML is rejected."""
    quote = message.chat.type != ChatType.PRIVATE
    sent: list[Message] = []
    for i, text in enumerate(texts):
        markup = reply_markup if i == len(texts) - 1 else None
        first = quote and i == 0
        try:
            sent.append(await _once_more(
                lambda: message.reply_html(text, reply_markup=markup, do_quote=first)))  # noqa: B023
        except BadRequest as exc:
            if not _rejected_html(exc):
                raise
            log.warning("Telegram rejected our HTML (%s); resending as plain text", exc.message)
            parts = split_text(plain_text(text), MAX_MESSAGE)
            for j, part in enumerate(parts):
                last = markup if j == len(parts) - 1 else None
                sent.append(await _once_more(
                    lambda: message.reply_text(part, reply_markup=last, do_quote=first)))  # noqa: B023
    return sent


async def edit_html(message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit `message` to the HTML `text`, as plain text if Telegram rejects the HTML; "not modified" is
    no error, any other failure raises TelegramError."""
    try:
        await message.edit_text(text, parse_mode="HTML", reply_markup=reply_markup)
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return
        if not _rejected_html(exc):
            raise
        log.warning("Telegram rejected our HTML (%s); editing as plain text", exc.message)
        await message.edit_text(plain_text(text), reply_markup=reply_markup)


async def edit_status(message: Message, text: str) -> None:
    """Best-effort edit of a status message: failures are only logged."""
    try:
        await edit_html(message, text)
    except TelegramError as exc:
        log.warning("could not edit message %s: %s", message.message_id, exc)


def topic_of(message: Message) -> int | None:
    """The forum topic `message` was sent in (None outside topics): where replies to it belong."""
    return message.message_thread_id if message.is_topic_message else None


@contextlib.asynccontextmanager
async def typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" where `message` was sent (its chat, and its forum topic) until the block ends."""
    bot, chat_id, topic = message.get_bot(), message.chat_id, topic_of(message)

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=topic)
            except TelegramError as exc:  # cosmetic: never let it cost the answer
                log.debug("send_chat_action failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
