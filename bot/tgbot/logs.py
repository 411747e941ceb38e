"""Logging for the bot: no secret (bot token, webhook secret) in any record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram.error import NetworkError

from newsqa.bot.common import BOT_LOG_FORMAT, setup_logging
from newsqa.index.config import Settings

REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    """Replaces each secret wherever it appears in a record: message, arguments, traceback, stack."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


class NetworkErrorsInOneLine(logging.Filter):
    """Unless logging at DEBUG (`-v`): a record about Telegram being unreachable, which PTB logs with a
    traceback on every retry, becomes one line naming the error; PTB's record of a failed start is
    dropped (`app.serve` says it, once, and retries)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, NetworkError) or logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        if record.name.startswith("telegram") and "Bootstrap" in record.getMessage():
            return False
        record.msg, record.args = f"{record.getMessage()} ({type(exc).__name__}: {exc})", None
        record.exc_info, record.exc_text = None, None
        return True


def configure_logging(settings: Settings) -> RedactSecrets:
    """Logging for the bot (unless `newsqa serve` set it up already), and no secret in any record."""
    setup_logging(getattr(logging, settings.log_level), BOT_LOG_FORMAT)
    root = logging.getLogger()
    redact = RedactSecrets([settings.telegram_bot_token, settings.webhook_secret])
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets | NetworkErrorsInOneLine)]:
            handler.removeFilter(old)
        handler.addFilter(NetworkErrorsInOneLine())  # first: the redaction then sees its one line
        handler.addFilter(redact)
    return redact
