"""Building and running the Telegram application: `run(settings)` is what `newsqa serve` calls."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from newsqa.bot.tgbot import feeds, handlers, inline
from newsqa.bot.tgbot.access import Access, RateLimiter
from newsqa.bot.tgbot.commands import COMMANDS, menu
from newsqa.bot.tgbot.deeplink import DeepLinks
from newsqa.bot.tgbot.feedback import FeedbackLog
from newsqa.bot.tgbot.logs import configure_logging
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError, NewsqaError
from newsqa.index.service import QA

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 60.0  # waits between attempts to reach Telegram: doubling, bounded
PUBLIC_COMMANDS = menu(admin=False)
ADMIN_COMMANDS = menu(admin=True)


class AnswersFirstRateLimiter(AIORateLimiter):  # type: ignore[type-arg]
    """Telegram's flood limits for messages; "typing…" (cosmetic) bypasses the queue.

    Under load the 30 requests/s budget is the bottleneck, and a chat action per question would
    halve it and queue answers behind typing indicators nobody sees any more. A chat action that
    Telegram refuses is only logged by `messaging.typing`.
    """

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Chats are served concurrently; the updates of one chat are handled one at a time, in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first come, first served
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def build_application(settings: Settings, *, qa: QA | None = None) -> Application:  # type: ignore[type-arg]
    """The configured application; the service is created in post_init unless `qa` is given (and kept)."""
    settings.require_bot()
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        application.bot_data["state"] = handlers.BotState(
            qa=qa or QA(settings), settings=settings, access=Access.from_settings(settings),
            limiter=RateLimiter(settings.rate_limit_per_minute), feedback=FeedbackLog(settings.feedback_log),
            links=DeepLinks(token))
        await asyncio.to_thread(_warm_up, application.bot_data["state"].qa)
        await _register_commands(application, settings)
        log.info("newsqa bot @%s ready", application.bot.username)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        state = application.bot_data.get("state")
        if state is not None and qa is None:
            await asyncio.to_thread(state.qa.close)

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(_file_url(settings.telegram_base_url))
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AnswersFirstRateLimiter(max_retries=3))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    _add_handlers(application)
    feeds.schedule(application, settings)
    return application


def _warm_up(qa: QA) -> None:
    """Load the model and the live index before taking updates, so the first users don't wait for it."""
    try:
        qa.embedder.get_query_embedding("warm up")
        qa.snapshot_for_questions()  # an index of another model is said here, once, as well
    except NewsqaError as exc:  # e.g. no index yet: the handlers say so politely
        log.warning("not ready yet: %s", exc)


def _file_url(base_url: str) -> str:
    """The file endpoint next to a Bot API endpoint: https://host/bot → https://host/file/bot."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


def _add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, command.callback))
    application.add_handler(InlineQueryHandler(inline.inline_query))
    application.add_handler(MessageHandler(handlers.QUESTION, handlers.question))
    application.add_handler(MessageHandler(handlers.NOT_TEXT, handlers.not_text))
    unknown = filters.COMMAND & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(unknown, handlers.unknown_command))
    application.add_handler(CallbackQueryHandler(handlers.vote))
    application.add_error_handler(handlers.on_error)


async def _register_commands(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Commands for the menu: everyone sees the public ones, each admin also the admin ones."""
    try:
        await application.bot.set_my_commands(PUBLIC_COMMANDS)
        for admin in sorted(settings.admin_user_ids):
            await application.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
    except TelegramError as exc:  # cosmetic; e.g. an admin who never opened a chat with the bot
        log.warning("could not register the command menu: %s", exc)


def serve(application: Application, settings: Settings, *,  # type: ignore[type-arg]
          stop_signals: Sequence[int] | None = STOP_SIGNALS) -> None:
    """Run until stopped: a webhook server when WEBHOOK_URL is set, else long polling. While Telegram
    cannot be reached, say so in one line and retry with backoff (PTB's own retries log tracebacks)."""
    where = urlsplit(settings.telegram_base_url).netloc
    if settings.webhook_url:
        log.info("serving a webhook on %s:%s for %s", settings.webhook_listen, settings.webhook_port,
                 settings.webhook_url)
    else:
        log.info("polling %s for updates", where)
    delay, attempts = RETRY_FIRST_S, 0
    while True:
        try:
            _serve_once(application, settings, stop_signals)
            return
        except InvalidToken:
            raise ConfigError(["TELEGRAM_BOT_TOKEN: Telegram refused this token; ask @BotFather"]) from None
        except NetworkError as exc:  # TimedOut too; reached only before the bot started
            attempts += 1
            log.log(logging.WARNING if attempts == 1 else logging.DEBUG,
                    "cannot reach Telegram at %s (%s: %s); retrying with backoff (every %.0f s at most)",
                    where, type(exc).__name__, exc, RETRY_MAX_S)
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
            log.debug("trying to reach Telegram at %s again (attempt %d)", where, attempts + 1)
            asyncio.set_event_loop(asyncio.new_event_loop())  # PTB closed the last one


def _serve_once(application: Application, settings: Settings,  # type: ignore[type-arg]
                stop_signals: Sequence[int] | None) -> None:
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"), webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES, stop_signals=stop_signals)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=stop_signals)


def run(settings: Settings) -> None:
    """`newsqa serve`: check the bot settings (ConfigError before any network), then run the bot."""
    settings.require_bot()
    configure_logging(settings)
    serve(build_application(settings), settings)
