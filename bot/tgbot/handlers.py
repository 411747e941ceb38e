"""Telegram handlers: parse the update, call the `QA` service, format with `render`, reply."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from newsqa.bot.tgbot import render
from newsqa.bot.tgbot.access import Access, Debounce, RateLimiter
from newsqa.bot.tgbot.deeplink import DeepLinks, PayloadError
from newsqa.bot.tgbot.drafts import Drafts, streamed_reply
from newsqa.bot.tgbot.feedback import FeedbackLog, PendingAnswers, parse_vote, record_for, vote_data
from newsqa.bot.tgbot.messaging import reply_html, typing
from newsqa.bot.tgbot.reindexing import ReindexJob
from newsqa.bot.tgbot.streaming import stream_answer
from newsqa.bot.tgbot.threads import Threads, own_key
from newsqa.index.config import Settings
from newsqa.index.errors import (
    IndexBuildingError,
    IndexModelError,
    IndexNotFoundError,
    QuestionError,
    ReindexBusyError,
    StoreUnavailableError,
)
from newsqa.index.service import QA

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class BotState:
    """Everything the handlers share, kept in `application.bot_data["state"]`."""

    qa: QA
    settings: Settings
    access: Access
    limiter: RateLimiter
    feedback: FeedbackLog
    links: DeepLinks
    pending: PendingAnswers = field(default_factory=PendingAnswers)
    reindex: ReindexJob = field(default_factory=ReindexJob)
    threads: Threads = field(default_factory=Threads)
    drafts: Drafts = field(default_factory=Drafts)
    debounce: Debounce = field(default_factory=Debounce)


def state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]  # type: ignore[no-any-return]


class _AddressedToBot(filters.MessageFilter):
    """A message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        for entity, text in mentions.items():
            if text[1:].lower() == (bot.username or "").lower() or (entity.user and entity.user.id == bot.id):
                return True
        return False


class _ViaThisBot(filters.MessageFilter):
    """A message a user sent through this bot's inline mode: already an answer, not a question."""

    def filter(self, message: Message) -> bool:
        return message.via_bot is not None and message.via_bot.id == message.get_bot().id


ADDRESSED = _AddressedToBot()
QUESTION = (
    filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & ~_ViaThisBot()
    & (filters.ChatType.PRIVATE | ADDRESSED)
)
NOT_TEXT = (
    filters.UpdateType.MESSAGE
    & ~filters.TEXT
    & ~filters.StatusUpdate.ALL
    & (filters.ChatType.PRIVATE | ADDRESSED)
)
_SPOKEN_TO = QUESTION | NOT_TEXT | filters.COMMAND


def _required(value: T | None, what: str) -> T:
    """`value`, which PTB types as optional but every update routed to the calling handler carries."""
    if value is None:
        raise ValueError(f"the update has no {what}")
    return value


def _message(update: Update) -> Message:
    return _required(update.effective_message, "message")


def _without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def _after_command(text: str | None) -> str:
    parts = (text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def vote_keyboard(answer_id: str) -> InlineKeyboardMarkup:
    up = InlineKeyboardButton("👍", callback_data=vote_data(answer_id, True))
    down = InlineKeyboardButton("👎", callback_data=vote_data(answer_id, False))
    return InlineKeyboardMarkup([[up, down]])


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from users and chats outside the allowlist; tell them if they spoke to the bot."""
    user, chat = update.effective_user, update.effective_chat
    if state(context).access.is_allowed(user.id if user else None, chat.id if chat else None):
        return
    if update.callback_query:
        await update.callback_query.answer("Sorry, this bot is private.")
    elif update.inline_query:  # no results, and none cached for anyone else
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.effective_message and _SPOKEN_TO.check_update(update):
        await update.effective_message.reply_text("Sorry, this bot is private; ask its owner for access.")
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and suggest an example question; `/start <payload>` (an inline deep link) answers it."""
    payload = _after_command(_message(update).text).strip()
    if payload:
        try:
            asked = state(context).links.question(payload)
        except PayloadError as exc:
            log.info("refused a start payload of %d characters: %s", len(payload), exc)
            await _message(update).reply_text(f"{exc} Just send me your question.")
            return
        await answer(update, context, asked)
        return
    user = update.effective_user
    await reply_html(_message(update), [render.render_start(user.first_name if user else None)])


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask, in private chats and in groups."""
    await reply_html(_message(update), [render.render_help(context.bot.username)])


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question>, in any chat."""
    await answer(update, context, _after_command(_message(update).text))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message, or a group message addressed to the bot, is a question."""
    text = _required(_message(update).text, "text")  # QUESTION lets only text messages through
    await answer(update, context, _without_mention(text, context.bot.username))


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Answer `text` in the update's chat, with typing, the per-user limit and feedback buttons."""
    st, message = state(context), _message(update)
    user_id = _required(update.effective_user, "user").id
    if not text.strip():
        await message.reply_text(f"Ask me a question, e.g. /ask {render.EXAMPLE_QUESTION}")
        return
    if not st.limiter.allow(user_id):
        if st.limiter.should_warn(user_id):
            wait = round(st.limiter.retry_in(user_id))
            await message.reply_text(
                f"You're asking faster than I can read. Please wait {wait} s and try again."
            )
        return
    reply = streamed_reply(message, st.drafts)  # an LLM answer is shown while it is written
    conversation = st.threads.key_for(message, user_id)
    async with typing(message):
        result = await stream_answer(reply, st.qa.ask_stream(text, chat_id=conversation))
    keyboard = vote_keyboard(st.pending.add(result))
    st.threads.add(conversation, await reply.finish(render.render_answer(result), keyboard))


async def new_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: forget the context of the user's conversation here, so the next question stands alone."""
    message, user = _message(update), _required(update.effective_user, "user")
    await asyncio.to_thread(state(context).qa.new_conversation, own_key(message.chat, user.id))
    await message.reply_text("New conversation: your next question starts afresh.")


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the indexed articles."""
    found = await asyncio.to_thread(state(context).qa.sources)
    await reply_html(_message(update), render.render_sources(found))


async def _admin(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    user = update.effective_user
    if state(context).access.is_admin(user.id if user else None):
        return True
    log.info("refused /%s to non-admin user %s", command, user.id if user else None)
    await _message(update).reply_text(f"Sorry, /{command} is only for the bot's admins.")
    return False


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Index statistics (admins only)."""
    if await _admin(update, context, "stats"):
        found = await asyncio.to_thread(state(context).qa.stats)
        await reply_html(_message(update), [render.render_stats(found)])


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a background reindex (admins only); "/reindex rebuild" re-embeds everything."""
    if not await _admin(update, context, "reindex"):
        return
    st, message = state(context), _message(update)
    if st.reindex.running:
        await message.reply_text("A reindex is already running; I'll update its message when it's done.")
        return
    status = await message.reply_text(render.render_progress(None))
    rebuild = _after_command(message.text).strip().lower() in ("rebuild", "full")
    st.reindex.start(context.application, update, st.qa, status, rebuild=rebuild)


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a 👍/👎 on an answer with its question and sources, and thank the voter."""
    st, query = state(context), _required(update.callback_query, "callback query")
    parsed = parse_vote(query.data)
    remembered = st.pending.get(parsed[0]) if parsed else None
    if parsed is None or remembered is None:
        await query.answer("Sorry, I can't record that vote (unknown or expired answer).")
        return
    chat = update.effective_chat
    record = record_for(
        parsed[0], parsed[1], remembered, user_id=query.from_user.id, chat_id=chat.id if chat else None
    )
    await asyncio.to_thread(st.feedback.append, record)
    await query.answer("Thanks for the feedback!")
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:  # e.g. already removed by another voter
        log.debug("could not remove vote buttons: %s", exc.message)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice…: a one-line note."""
    await _message(update).reply_text("I can only read text: please type your question.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command in a private chat."""
    await _message(update).reply_text("I don't know that command; see /help.")


def _polite(error: BaseException, settings: Settings) -> str | None:
    """The reply for an error, or None when replying would not help (Telegram itself failing)."""
    if isinstance(error, QuestionError):
        length = error.context.get("length")
        if length:
            return (
                f"That question is too long ({length:,} characters; I can read up to "
                f"{settings.max_question_chars:,}). Please ask something shorter."
            )
        return f"Ask me a question, e.g. /ask {render.EXAMPLE_QUESTION}"
    if isinstance(error, IndexBuildingError):
        return "I'm re-reading the articles right now. Please ask again in a moment."
    if isinstance(error, IndexNotFoundError):
        return "I haven't indexed any articles yet. An admin can run /reindex."
    if isinstance(error, IndexModelError):
        return "My index was built with another embedding model. An admin can run /reindex to rebuild it."
    if isinstance(error, StoreUnavailableError):
        return "The article store is unavailable right now. Please try again in a minute."
    if isinstance(error, ReindexBusyError):
        return "A reindex is already running."
    if isinstance(error, TelegramError):
        return None
    return "Sorry, something went wrong on my side. Please try again."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its traceback and tell the user, briefly and politely."""
    error = context.error
    expected = isinstance(error, (QuestionError, IndexNotFoundError, IndexModelError))
    level = logging.INFO if expected else logging.ERROR
    update_id = update.update_id if isinstance(update, Update) else None
    log.log(level, "update %s failed: %s", update_id, error, exc_info=None if expected else error)
    st = context.bot_data.get("state")
    text = _polite(error, st.settings) if error and st else None
    message = update.effective_message if isinstance(update, Update) else None
    if text and message:
        try:
            await message.reply_text(text)
        except TelegramError as exc:
            log.warning("could not send the error reply: %s", exc)
