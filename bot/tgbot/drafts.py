"""Streaming a private LLM answer as a native draft (Bot API `sendMessageDraft`), edits as the fallback.

A draft is an ephemeral preview in the user's chat that Telegram animates as it changes; it costs no
message and no edit, so it is not throttled the way repeated edits are. The partial texts are the
verified sentences so far, exactly as with edits (`streaming.StreamedReply`); the final answer, with
its sources and vote buttons, is then sent as a normal message, which replaces the preview.

If Telegram refuses a draft, that answer goes on as an edited message. A refusal (not a network
error) means drafts do not work for this bot here (e.g. a self-hosted Bot API server that predates
them), so drafts stay off for the rest of the process. Either way the fallback is logged as a warning
once per process; later ones only at debug level.
"""

from __future__ import annotations

import logging

from telegram import Message
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TelegramError

from newsqa.bot.tgbot.messaging import EDIT_EVERY_S, topic_of
from newsqa.bot.tgbot.streaming import WRITING, StreamedReply

log = logging.getLogger(__name__)

DRAFT_EVERY_S = 0.3  # between draft updates: new verified text comes a sentence at a time anyway


class Drafts:
    """Whether this process streams private answers as drafts, and whether a fallback was logged."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._warned = False

    def failed(self, exc: TelegramError) -> None:
        """A draft call failed: log it (a warning only the first time); a refusal turns drafts off."""
        refused = isinstance(exc, BadRequest) or not isinstance(exc, NetworkError)
        if refused:
            self.enabled = False
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        log.log(level, "a message draft failed (%s: %s); streaming %s by editing a message instead",
                type(exc).__name__, exc, "answers from now on" if refused else "this answer")


class DraftReply(StreamedReply):
    """A private reply whose partial texts are drafts; the final answer is a new message."""

    def __init__(self, question: Message, drafts: Drafts, every_s: float = DRAFT_EVERY_S) -> None:
        super().__init__(question, every_s)
        self.drafts = drafts
        self.drafting = True

    async def _show(self, text: str) -> None:
        if not self.drafting:
            await super()._show(text)
            return
        question = self.question
        try:
            await question.get_bot().send_message_draft(
                question.chat_id, draft_id=question.message_id, text=text + WRITING,
                message_thread_id=topic_of(question))
        except TelegramError as exc:
            self.drafts.failed(exc)
            self.drafting, self.every_s = False, EDIT_EVERY_S
            await super()._show(text)  # this text as a message, later ones as its edits


def streamed_reply(question: Message, drafts: Drafts) -> StreamedReply:
    """How to show an answer while it is written: drafts in a private chat (while they work), else edits."""
    if question.chat.type == ChatType.PRIVATE and drafts.enabled:
        return DraftReply(question, drafts)
    return StreamedReply(question)
