"""Logging for the bot: no secret (bot token, webhook secret) in any record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

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


def configure_logging(settings: Settings) -> RedactSecrets:
    """Logging for the bot (unless `newsqa serve` set it up already), and no secret in any record."""
    setup_logging(getattr(logging, settings.log_level), BOT_LOG_FORMAT)
    root = logging.getLogger()
    redact = RedactSecrets([settings.telegram_bot_token, settings.webhook_secret])
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redact)
    return redact
