"""The bot's pure parts: access rules, rate limit, feedback records, secret redaction, per-chat order."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import pytest
from telegram import Chat, Message, Update

from newsqa.bot.tgbot.access import Access, RateLimiter
from newsqa.bot.tgbot.app import PerChatUpdateProcessor
from newsqa.bot.tgbot.feedback import (
    FeedbackLog,
    PendingAnswers,
    parse_vote,
    read_feedback,
    record_for,
    vote_data,
)
from newsqa.bot.tgbot.logs import RedactSecrets
from newsqa.index.types import Answer, Citation
from tests.botapi_emulator import TOKEN

pytestmark = [pytest.mark.fast, pytest.mark.timeout(30)]
ANSWER = Answer("how many troops?", "About 2,500 [1].", False,
                [Citation(1, "a.txt", "Troops", "https://example.com/a", "About 2,500 troops.", 0.9)])


def test_without_allowlist_everyone_may_ask_and_only_admins_administer():
    access = Access(admins=frozenset({1}), users=frozenset(), chats=frozenset())
    assert access.is_allowed(5, 5) and access.is_admin(1) and not access.is_admin(5)
    assert not access.is_admin(None)


def test_allowlist_admits_listed_users_listed_chats_and_admins_only():
    access = Access(admins=frozenset({1}), users=frozenset({2}), chats=frozenset({-100}))
    assert access.is_allowed(2, 2) and access.is_allowed(9, -100) and access.is_allowed(1, 1)
    assert not access.is_allowed(9, 9) and not access.is_allowed(None, None)


def test_rate_limit_is_a_sliding_minute_and_warns_once_per_burst():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow(7) and limiter.allow(7) and not limiter.allow(7)
    assert limiter.should_warn(7) and not limiter.should_warn(7)
    assert limiter.allow(8)  # other users are unaffected
    now[0] = 30.0
    assert limiter.retry_in(7) == pytest.approx(30.0) and not limiter.allow(7)
    now[0] = 60.0
    assert limiter.allow(7) and limiter.should_warn(7)
    assert RateLimiter(0).allow(7)
    with pytest.raises(ValueError, match="-1"):
        RateLimiter(-1)


def test_vote_data_round_trips_and_rejects_anything_else():
    data = vote_data("0123456789ab", up=False)
    assert data == "fb:d:0123456789ab" and len(data.encode()) <= 64
    assert parse_vote(data) == ("0123456789ab", "down")
    for bad in (None, "", "fb:x:0123456789ab", "fb:u:0123456789ab ", "fb:u:XYZ", "fb:u:" + "a" * 40):
        assert parse_vote(bad) is None
    with pytest.raises(ValueError, match="nope"):
        vote_data("nope", up=True)


def test_feedback_log_records_are_readable_and_the_last_vote_wins(tmp_path):
    pending = PendingAnswers(capacity=2)
    answer_id = pending.add(ANSWER)
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.append(record_for(answer_id, "up", ANSWER, user_id=3, chat_id=4))
    log.append(record_for(answer_id, "down", ANSWER, user_id=3, chat_id=4))
    with log.path.open("a", encoding="utf-8") as f:
        f.write("not json\n")
    first = json.loads(log.path.read_text().splitlines()[0])
    assert first["question"] == "how many troops?" and first["sources"][0]["url"] == "https://example.com/a"
    assert first["version"] == 1 and first["user_id"] == 3 and first["chat_id"] == 4
    [record] = read_feedback(log.path)
    assert record.vote == "down" and record.answer == "About 2,500 [1]."
    pending.add(ANSWER)
    pending.add(ANSWER)
    assert pending.get(answer_id) is None  # the oldest answer is forgotten


def test_redaction_removes_secrets_from_message_arguments_and_tracebacks():
    record_holder: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record_holder.append(record)

    handler = Keep()
    handler.addFilter(RedactSecrets([TOKEN, None, "hooksecret"]))
    logger = logging.getLogger("newsqa.test.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET https://api.telegram.org/bot%s/getMe with %s", TOKEN, "hooksecret")
        try:
            raise RuntimeError(f"failed for /bot{TOKEN}/getUpdates")
        except RuntimeError as exc:
            logger.error("boom", exc_info=exc)
    finally:
        logger.removeHandler(handler)
    text = "\n".join(logging.Formatter().format(r) for r in record_holder)
    assert TOKEN not in text and "hooksecret" not in text and text.count("<redacted>") == 3


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, text="x"))  # type: ignore[arg-type]


def test_per_chat_processor_serves_chats_concurrently_and_each_chat_in_order():
    async def scenario() -> list[str]:
        processor = PerChatUpdateProcessor(16)
        events: list[str] = []
        slow_may_finish = asyncio.Event()

        async def handle(name: str, wait: asyncio.Event | None = None) -> None:
            events.append(f"start {name}")
            if wait is not None:
                await wait.wait()
            events.append(f"end {name}")

        async def other_chat() -> None:
            await handle("B1")
            slow_may_finish.set()  # chat B finished while A1 was still busy

        tasks = [asyncio.create_task(processor.process_update(_update(1, 10), handle("A1", slow_may_finish))),
                 asyncio.create_task(processor.process_update(_update(2, 10), handle("A2"))),
                 asyncio.create_task(processor.process_update(_update(3, 20), other_chat()))]
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return events

    events = asyncio.run(scenario())
    assert events.index("end B1") < events.index("end A1") < events.index("start A2")


@pytest.mark.fast
def test_a_question_while_the_index_is_rebuilt_gets_a_wait_reply_not_no_index() -> None:
    from newsqa.bot.tgbot.handlers import _polite
    from newsqa.index.config import Settings
    from newsqa.index.errors import IndexBuildingError, IndexNotFoundError

    settings = Settings()
    building = _polite(IndexBuildingError("the index is being built by another process"), settings)
    assert building is not None and "ask again in a moment" in building
    assert "haven't indexed" in str(_polite(IndexNotFoundError("no index yet"), settings))


@pytest.mark.fast
def test_a_question_to_an_index_of_another_embedding_model_asks_an_admin_to_reindex() -> None:
    from newsqa.bot.tgbot.handlers import _polite
    from newsqa.index.config import Settings
    from newsqa.index.errors import IndexModelError

    reply = _polite(IndexModelError("the index … was built with embedding model minilm-int8:…"), Settings())
    assert reply is not None and "another embedding model" in reply and "/reindex" in reply


@pytest.mark.fast
def test_network_errors_are_one_line_unless_verbose(caplog: pytest.LogCaptureFixture) -> None:
    from telegram.error import NetworkError

    from newsqa.bot.tgbot.logs import NetworkErrorsInOneLine

    one_line = NetworkErrorsInOneLine()
    try:
        raise NetworkError("httpx.ConnectError: All connection attempts failed")
    except NetworkError:
        record = logging.LogRecord("telegram.ext.Updater", logging.ERROR, __file__, 1,
                                   "Exception happened while polling for updates.", None, sys.exc_info())
    caplog.set_level(logging.INFO)  # not DEBUG: no -v
    assert one_line.filter(record) and record.exc_info is None
    assert record.getMessage() == ("Exception happened while polling for updates. (NetworkError: "
                                   "httpx.ConnectError: All connection attempts failed)")
