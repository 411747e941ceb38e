"""The real bot (PTB Application polling the Bot API emulator) in forum topics and in inline mode."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from newsqa.bot.tgbot.app import build_application, serve
from newsqa.index.config import Settings
from newsqa.index.errors import StoreUnavailableError
from newsqa.index.service import QA
from newsqa.index.types import Answer, When
from tests.botapi_emulator import TOKEN, BotApiEmulator, bot_thread

from .conftest import SEED_CORPUS

pytestmark = pytest.mark.timeout(120)

ADMIN = 777
GROUP = -100900
QUESTION = "how many US troops are in Iraq?"
MENTION = "@newsqa_test_bot "


class WatchedQA(QA):
    """The real service, recording what it was asked; its next reindex can be made to fail."""

    def __init__(self, settings: Settings, embedder: Any) -> None:
        super().__init__(settings, embedder=embedder)
        self.asked: list[str] = []
        self.fail_reindex = False

    def ask(self, question: str, *, k: int | None = None, chat_id: str | None = None,
            when: When | None = None) -> Answer:
        self.asked.append(question)
        return super().ask(question, k=k, chat_id=chat_id, when=when)

    def reindex(self, **kwargs: Any) -> Any:
        if self.fail_reindex:
            raise StoreUnavailableError("the Chroma server at db:8000 did not answer")
        return super().reindex(**kwargs)


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[WatchedQA]:
    root = tmp_path_factory.mktemp("topics-inline")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", telegram_bot_token=TOKEN,
                        admin_user_ids=frozenset({ADMIN}), rate_limit_per_minute=0)
    service = WatchedQA(settings, embedder)
    service.reindex()
    yield service
    service.close()


@pytest.fixture
def start_bot(emulator: BotApiEmulator, qa: WatchedQA, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Start the real application polling the emulator; keyword arguments override settings."""
    with ExitStack() as stack:
        def start(service: QA | None = None, **overrides: Any) -> None:
            settings = (service or qa).settings.with_overrides(
                telegram_base_url=emulator.base_url, feedback_log=tmp_path / "feedback.jsonl", **overrides)
            app = build_application(settings, qa=service or qa)
            stack.enter_context(bot_thread(app, lambda: serve(app, settings, stop_signals=None)))
        yield start


# -- forum topics ------------------------------------------------------------------------------------

def test_typing_answer_and_error_land_in_the_askers_forum_topic(emulator, start_bot):
    start_bot()
    emulator.send(MENTION + QUESTION, user=11, chat=GROUP, thread=7)
    [answer] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == GROUP)
    assert answer.params["message_thread_id"] == 7 and "2,500" in answer.params["text"]
    typing = emulator.wait_for("sendChatAction", lambda p: p["chat_id"] == GROUP)
    assert [t.params.get("message_thread_id") for t in typing] == [7] * len(typing)
    emulator.send(MENTION + "troops " * 400, user=11, chat=GROUP, thread=9)  # over MAX_QUESTION_CHARS
    [error] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == GROUP and "too long" in p["text"])
    assert error.params["message_thread_id"] == 9


def test_split_answer_lands_in_the_forum_topic(emulator, start_bot, tmp_path, embedder):
    corpus = tmp_path / "long"
    corpus.mkdir()
    lines = [f"Ferry number {n} of the Port Alba harbour authority carried {100 + n} passengers & crew on "
             f"its route along the northern coast during the spring season of that year." for n in range(60)]
    (corpus / "alba.txt").write_text("Port Alba ferry season report\n\n" + " ".join(lines), encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "long-index", chunk_tokens=2000,
                        chunk_overlap=0, telegram_bot_token=TOKEN, rate_limit_per_minute=0)
    service = QA(settings, embedder=embedder)
    service.reindex()
    try:
        start_bot(service)
        emulator.send(MENTION + "How many passengers did ferry number 17 of Port Alba carry?", user=12,
                      chat=GROUP, thread=21)
        last = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == GROUP and "reply_markup" in p)
        parts = emulator.sent(GROUP)
        assert len(parts) >= 2 and parts[-1]["html"] == last[0].params["text"]  # buttons on the last
        assert [p.get("message_thread_id") for p in parts] == [21] * len(parts)
        assert "117 passengers" in parts[0]["text"]
    finally:
        service.close()


def test_reindex_progress_summary_and_failure_land_in_the_admins_topic(emulator, start_bot, qa):
    start_bot()
    emulator.send("/reindex", user=ADMIN, chat=GROUP, thread=5)
    done = emulator.wait_for("editMessageText", lambda p: p["text"].startswith("Reindex done"), timeout=60)
    status = emulator.messages[(GROUP, done[0].params["message_id"])]
    assert status["message_thread_id"] == 5  # the status message, edited with progress, is in the topic
    assert [c.params["text"] for c in emulator.calls if c.method == "sendMessage"] == ["Reindexing… starting"]
    qa.fail_reindex = True
    try:
        emulator.send("/reindex", user=ADMIN, chat=GROUP, thread=6)
        [failed] = emulator.wait_for("editMessageText", lambda p: p["text"].startswith("Reindex failed"))
    finally:
        qa.fail_reindex = False
    assert emulator.messages[(GROUP, failed.params["message_id"])]["message_thread_id"] == 6
    assert "did not answer" in failed.params["text"]


# -- inline mode --------------------------------------------------------------------------------------

def test_inline_query_offers_the_answer_and_a_deep_link_that_start_answers_privately(emulator, start_bot, qa):
    start_bot()
    query_id = emulator.inline_query(QUESTION, user=31)
    [call] = emulator.wait_for("answerInlineQuery")  # the emulator checks results as Telegram does
    answered = call.params
    assert answered["inline_query_id"] == query_id and answered["cache_time"] == 30
    assert not answered.get("is_personal")  # no allowlist: the same results suit everyone
    results = answered["results"]
    assert 2 <= len(results) <= 3 and results[0]["id"] == "answer"
    first = results[0]["input_message_content"]
    assert first["parse_mode"] == "HTML" and "2,500" in first["message_text"]
    assert "<b>Sources</b>" in first["message_text"] and "[1]" in first["message_text"]
    cited = {line for line in first["message_text"].split("\n") if line.startswith("[")}
    assert all(r["title"] not in "\n".join(cited) for r in results[1:])  # other articles
    payload = answered["button"]["start_parameter"]
    assert answered["button"]["text"] == "Ask in private chat"
    for result in results:
        [[button]] = result["reply_markup"]["inline_keyboard"]
        assert button == {"text": "Ask in private chat", "url": f"https://t.me/newsqa_test_bot?start={payload}"}
    emulator.send(f"/start {payload}", user=31)  # what Telegram sends when the link is opened
    [private] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 31)
    assert "2,500" in private.params["text"] and "<b>Sources</b>" in private.params["text"]
    assert [b["text"] for b in private.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]
    assert qa.asked[-2:] == [QUESTION, QUESTION]


def test_message_sent_through_inline_mode_is_not_answered_again(emulator, start_bot):
    start_bot()
    via = {"id": emulator.bot_id, "is_bot": True, "first_name": "newsqa", "username": "newsqa_test_bot"}
    emulator.send("❓ how many US troops are in Iraq?\n\nPresently, there are roughly 2,500 U.S. troops",
                  user=32, via_bot=via)
    emulator.send("/help", user=32)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 32)
    assert "How to ask" in reply.params["text"]  # the first reply is to /help: nothing came before it


def test_short_and_still_typed_inline_queries_are_not_answered(emulator, start_bot, qa):
    start_bot()
    asked = len(qa.asked)
    short = emulator.inline_update("ab", user=33)
    typing = emulator.inline_update("how many US tro", user=33)
    typed = emulator.inline_update(QUESTION, user=33)
    emulator.inject_together(short, typing, typed)
    [call] = emulator.wait_for("answerInlineQuery")
    assert call.params["inline_query_id"] == typed["inline_query"]["id"]
    assert qa.asked[asked:] == [QUESTION]  # neither the short nor the superseded query reached the service
    emulator.inline_query("Who is Lloyd Austin?", user=34)  # later queries are still answered
    assert len(emulator.wait_for("answerInlineQuery", count=2)) == 2
    assert len(emulator.inline_answers) == 2


def test_inline_mode_applies_the_allowlist_and_the_rate_limit(emulator, start_bot):
    start_bot(allowed_user_ids=frozenset({51}), rate_limit_per_minute=1)
    emulator.inline_query(QUESTION, user=52)
    [refused] = emulator.wait_for("answerInlineQuery")
    assert refused.params["results"] == [] and refused.params["is_personal"] is True
    emulator.inline_query(QUESTION, user=51)
    allowed = emulator.wait_for("answerInlineQuery", count=2)[1]
    assert allowed.params["results"] and allowed.params["is_personal"] is True  # allowlist: per user
    emulator.inline_query("Who is Lloyd Austin?", user=51)
    limited = emulator.wait_for("answerInlineQuery", count=3)[2]
    assert limited.params["results"] == [] and limited.params["cache_time"] == 0


def test_forged_and_oversized_start_payloads_are_refused(emulator, start_bot, qa):
    start_bot()
    asked = len(qa.asked)
    emulator.inline_query(QUESTION, user=35)
    payload = emulator.wait_for("answerInlineQuery")[0].params["button"]["start_parameter"]
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    emulator.send(f"/start {forged}", user=35)
    emulator.send("/start " + "q" * 80, user=35)
    emulator.send("/start q<script>", user=35)
    replies = [c.params["text"] for c in emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 35,
                                                           count=3)]
    assert replies[0].startswith("That link is not one of mine") and "send me your question" in replies[0]
    assert replies[1].startswith("That link is too long (80 characters")
    assert replies[2].startswith("That link is not one of mine")
    assert qa.asked[asked:] == [QUESTION]  # only the inline query was answered
