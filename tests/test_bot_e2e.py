"""The real bot (PTB Application, long polling) against the Bot API emulator, over the real QA service."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from newsqa.bot.tgbot.app import build_application, serve
from newsqa.bot.tgbot.logs import configure_logging
from newsqa.bot.tgbot.render import render_answer
from newsqa.index.config import Settings
from newsqa.index.service import QA
from newsqa.index.types import Answer, When
from tests.botapi_emulator import TOKEN, BotApiEmulator, bot_thread

pytestmark = pytest.mark.timeout(120)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ADMIN = 777
HOSTILE = """---
title: Zanzibar ferries & <script>alert("x")</script> *_[ timetable
url: https://example.com/ferries?a=1&b=2
---
The Zanzibar Ferry Company said on Monday that three new ferries & two tugboats will join its fleet in \
March, a move officials called "<b>long overdue</b>" *really* _finally_ [done](x).

Passengers complained for years that the old <script> of boats was slow & unreliable; the new ferries \
cut the crossing to Dar es Salaam to ninety minutes.
"""


class GatedQA(QA):
    """The real service with gates a test can close: hold a reindex, or the questions of one chat."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.reindex_gate = threading.Event()
        self.reindex_gate.set()
        self.held: dict[str, threading.Event] = {}

    def reindex(self, **kwargs: Any) -> Any:
        assert self.reindex_gate.wait(30), "test never released the reindex"
        return super().reindex(**kwargs)

    def ask(
        self, question: str, *, k: int | None = None, chat_id: str | None = None, when: When | None = None
    ) -> Answer:
        gate = self.held.get(chat_id or "")
        if gate is not None:
            assert gate.wait(30), "test never released the chat"
        return super().ask(question, k=k, chat_id=chat_id, when=when)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("newsqa")
    (root / "corpus").mkdir()
    for article in CORPUS.glob("*.txt"):
        shutil.copy(article, root / "corpus")
    (root / "corpus" / "900_zanzibar.txt").write_text(HOSTILE, encoding="utf-8")
    return Settings(corpus_dir=root / "corpus", index_dir=root / "index", telegram_bot_token=TOKEN,
                    admin_user_ids=frozenset({ADMIN}), rate_limit_per_minute=0)


@pytest.fixture(scope="module")
def qa(indexed: Settings) -> Iterator[GatedQA]:
    service = GatedQA(indexed)
    service.reindex()
    yield service
    service.close()



@pytest.fixture
def start_bot(emulator: BotApiEmulator, qa: GatedQA, indexed: Settings,
              tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    """Start the real application polling the emulator; keyword arguments override settings."""
    with ExitStack() as stack:
        def start(*, own_service: bool = False, **overrides: Any) -> Settings:
            settings = indexed.with_overrides(telegram_base_url=emulator.base_url,
                                              feedback_log=tmp_path / "feedback.jsonl", **overrides)
            app = build_application(settings, qa=None if own_service else qa)
            stack.enter_context(bot_thread(app, lambda: serve(app, settings, stop_signals=None)))
            return settings
        yield start


def texts(calls: list[Any]) -> list[str]:
    return [c.params["text"] for c in calls]


def replies_to(emulator: BotApiEmulator, user: int, *messages: str) -> list[str]:
    """Send `messages` in `user`'s private chat; the bot's replies, one per message."""
    for text in messages:
        emulator.send(text, user=user)
    return texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == user, count=len(messages)))


def test_private_question_gets_cited_html_answer_with_typing_and_vote_buttons(emulator, start_bot):
    start_bot()
    emulator.send("how many US troops are in Iraq?", user=11)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 11)
    assert reply.params["parse_mode"] == "HTML"
    assert "2,500" in reply.params["text"] and "[1]" in reply.params["text"]
    assert "<b>Sources</b>" in reply.params["text"] and "<blockquote" in reply.params["text"]
    buttons = reply.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍", "👎"]
    methods = [c.method for c in emulator.calls]
    assert "sendChatAction" in methods[: methods.index("sendMessage")]
    assert emulator.wait_for("sendChatAction")[0].params["action"] == "typing"


def test_follow_up_is_answered_in_the_context_of_the_previous_question(emulator, start_bot, qa):
    start_bot()
    first = "When does Iraq want the withdrawal timetable to start?"
    qa.ask(first, chat_id="ref")
    in_context = render_answer(qa.ask("and to conclude?", chat_id="ref"))[0]
    out_of_context = render_answer(qa.ask("and to conclude?", chat_id="ref-fresh"))[0]
    emulator.send(first, user=12)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 12)
    emulator.send("and to conclude?", user=12)
    replies = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 12, count=2)
    assert "September 2025" in replies[1].params["text"]
    assert replies[1].params["text"] == in_context != out_of_context


def test_new_starts_a_new_conversation(emulator, start_bot):
    start_bot()
    replies = replies_to(emulator, 17, "how many US troops are in Iraq?", "and in germany?", "/new",
                         "and in germany?")
    assert "Reading it as: How many US troops are in Germany?" in replies[1]
    assert "New conversation" in replies[2]
    assert "Reading it as" not in replies[3]  # nothing to follow up on any more


def test_group_keeps_a_context_per_user_and_follows_reply_threads(emulator, start_bot):
    start_bot()
    group = -100600
    emulator.send("@newsqa_test_bot how many US troops are in Iraq?", user=31, chat=group)
    emulator.send("@newsqa_test_bot Who is Lloyd Austin?", user=32, chat=group)
    emulator.send("@newsqa_test_bot and in germany?", user=31, chat=group)
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == group, count=3))
    assert "Defense Secretary" in replies[1]
    # User 31's follow-up continues their own question, not the one user 32 asked in between.
    assert "Reading it as: How many US troops are in Germany?" in replies[2]
    austin = next(m for m in emulator.sent(group) if "Defense Secretary" in m["text"])
    emulator.send("what did he say about the transition?", user=33, chat=group, reply_to=austin)
    emulator.send("@newsqa_test_bot what did he say about the transition?", user=33, chat=group)
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == group, count=5))
    # A reply to the bot's answer continues that answer's conversation, whoever replies.
    assert "Reading it as: What did Lloyd Austin say about the transition?" in replies[3]
    assert "capabilities of the Iraqi defense forces" in replies[3]
    assert "Reading it as" not in replies[4]  # user 33's own conversation is new


def test_unanswerable_question_says_so_and_suggests_rephrasing(emulator, start_bot):
    start_bot()
    emulator.send("What is the capital of Peru?", user=13)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 13)
    assert "couldn't find an answer" in reply.params["text"] and "rephras" in reply.params["text"]


def test_group_answers_mentions_replies_and_ask_but_ignores_chatter(emulator, start_bot):
    start_bot()
    group = -100500
    emulator.send("lunch at noon, anyone?", user=21, chat=group)
    emulator.send("@newsqa_test_bot how many US troops are in Iraq?", user=21, chat=group)
    [answer] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == group)
    assert "2,500" in answer.params["text"]
    assert answer.params["reply_parameters"]["message_id"]  # quotes the question in a group
    emulator.send("@someone_else what do you think?", user=22, chat=group)
    bot_message = emulator.sent(group)[0]
    emulator.send("How many tugboats will join the Zanzibar fleet?", user=22, chat=group,
                  reply_to=bot_message)
    emulator.send("/ask@newsqa_test_bot How many new ferries will join the Zanzibar fleet?", user=23,
                  chat=group)
    replies = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == group, count=3)
    assert len(replies) == 3  # the chatter and the other mention got nothing, in order before these
    assert all("three new ferries" in r.params["text"] for r in replies[1:])


def test_commands_are_registered_for_everyone_and_admins(emulator, start_bot):
    start_bot()
    calls = emulator.wait_for("setMyCommands", count=2)
    public = [c["command"] for c in calls[0].params["commands"]]
    assert set(public) == {"start", "help", "ask", "new", "sources"}
    assert calls[1].params["scope"] == {"type": "chat", "chat_id": ADMIN}
    assert {"reindex", "stats"} <= {c["command"] for c in calls[1].params["commands"]}


def test_start_help_and_sources(emulator, start_bot):
    start_bot()
    replies = replies_to(emulator, 14, "/start", "/help", "/sources", "/nonsense")
    assert "How many US troops are in Iraq?" in replies[0]
    assert "@newsqa_test_bot" in replies[1] and "/reindex" in replies[1]
    assert "Indexed articles (6)" in replies[2]
    link = '<a href="https://example.com/ferries?a=1&amp;b=2">Zanzibar ferries &amp; &lt;script&gt;'
    assert link in replies[2]
    assert "/help" in replies[3]


def test_html_hostile_question_and_article_are_escaped(emulator, start_bot):
    start_bot()
    emulator.send("<script>alert(1)</script> & *_[ How many new ferries will join the Zanzibar fleet?",
                  user=15)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 15)
    assert reply.params["parse_mode"] == "HTML"  # accepted by the strict parser, no plain fallback
    shown = emulator.sent(15)[0]["text"]
    assert 'Zanzibar ferries & <script>alert("x")</script> *_[ timetable' in shown
    assert '"<b>long overdue</b>" *really* _finally_ [done](x)' in shown


def test_answer_over_4096_characters_is_split_with_buttons_on_the_last_part(emulator, start_bot, tmp_path):
    corpus = tmp_path / "long"
    corpus.mkdir()
    lines = [f"Ferry number {n} of the Port Alba harbour authority carried {100 + n} passengers & crew on "
             f"its route along the northern coast during the spring season of that year." for n in range(60)]
    (corpus / "alba.txt").write_text("Port Alba ferry season report\n\n" + " ".join(lines), encoding="utf-8")
    overrides = {"corpus_dir": corpus, "index_dir": tmp_path / "long-index", "chunk_tokens": 2000,
                 "chunk_overlap": 0}
    QA(Settings(**overrides)).reindex()
    start_bot(own_service=True, **overrides)
    emulator.send("How many passengers did ferry number 17 of Port Alba carry?", user=16)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 16 and "reply_markup" in p)
    parts = emulator.sent(16)
    assert len(parts) >= 2 and sum(len(p["text"]) for p in parts) > 4096
    assert all(len(p["text"]) <= 4096 for p in parts)  # the emulator also refuses longer ones
    assert "117 passengers" in parts[0]["text"]
    assert [("reply_markup" in p) for p in parts] == [False] * (len(parts) - 1) + [True]


def test_non_text_messages_get_a_one_line_note(emulator, start_bot):
    start_bot()
    sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}
    emulator.send(user=17, sticker=sticker)
    emulator.send(user=17, photo=[{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}])
    emulator.send(user=17, voice={"file_id": "v", "file_unique_id": "v", "duration": 3})
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 17, count=3))
    assert replies == ["I can only read text: please type your question."] * 3


def test_vote_is_logged_with_question_answer_and_sources(emulator, start_bot):
    settings = start_bot()
    emulator.send("how many US troops are in Iraq?", user=19)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 19)
    answer = emulator.sent(19)[0]
    up = answer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    emulator.press(answer, up, user=19)
    [ack] = emulator.wait_for("answerCallbackQuery")
    assert ack.params["text"] == "Thanks for the feedback!"
    emulator.wait_for("editMessageReplyMarkup")
    assert "reply_markup" not in emulator.sent(19)[0]
    [record] = [json.loads(line) for line in settings.feedback_log.read_text().splitlines()]
    assert record["vote"] == "up" and record["question"] == "how many US troops are in Iraq?"
    assert record["user_id"] == record["chat_id"] == 19 and "2,500" in record["answer"]
    assert record["sources"][0]["title"]
    emulator.press(answer, "fb:u:zzzz' OR 1=1", user=19)
    acks = emulator.wait_for("answerCallbackQuery", count=2)
    assert "can't record" in acks[1].params["text"]


def test_flood_control_retry_after_is_waited_out(emulator, start_bot):
    start_bot()
    emulator.fail("sendMessage", 429, retry_after=1)
    emulator.send("/start", user=31)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 31)
    failed = [c for c in emulator.calls if c.method == "sendMessage" and c.status == 429]
    assert len(failed) == 1 and reply.at - failed[0].at >= 0.9


def test_rejected_html_is_resent_as_plain_text(emulator, start_bot):
    start_bot()
    emulator.fail("sendMessage", 400, when=lambda p: p.get("parse_mode") == "HTML")
    emulator.send("how many US troops are in Iraq?", user=32)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 32)
    assert "parse_mode" not in reply.params
    assert "Sources\n[1]" in reply.params["text"] and "<b>" not in reply.params["text"]
    assert "reply_markup" in reply.params


def test_network_errors_are_survived(emulator, start_bot):
    start_bot()
    emulator.fail("getUpdates", 500)
    emulator.fail("sendMessage", 500)
    emulator.send("/start", user=33)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 33)
    emulator.send("/help", user=33)
    assert len(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 33, count=2)) == 2


def test_reindex_and_stats_are_refused_to_non_admins(emulator, start_bot, qa):
    start_bot()
    generation = qa.stats()["generation"]
    emulator.send("/reindex", user=41)
    emulator.send("/stats", user=41)
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 41, count=2))
    assert replies == ["Sorry, /reindex is only for the bot's admins.",
                       "Sorry, /stats is only for the bot's admins."]
    assert qa.stats()["generation"] == generation
    assert not [c for c in emulator.calls if c.method == "editMessageText"]


def test_admin_sees_stats(emulator, start_bot):
    start_bot()
    emulator.send("/stats", user=ADMIN)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == ADMIN)
    assert "articles: <code>6</code>" in reply.params["text"]


def test_admin_reindex_runs_in_background_while_questions_are_answered(emulator, start_bot, qa):
    start_bot()
    generation = qa.stats()["generation"]
    qa.reindex_gate.clear()
    try:
        emulator.send("/reindex rebuild", user=ADMIN)
        emulator.wait_for("sendMessage", lambda p: p["text"] == "Reindexing… starting")
        emulator.send("/reindex", user=ADMIN)
        emulator.wait_for("sendMessage", lambda p: "already running" in p["text"])
        emulator.send("how many US troops are in Iraq?", user=42)
        [answer] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 42)
        assert "2,500" in answer.params["text"]
    finally:
        qa.reindex_gate.set()
    status = next(m for (c, _), m in sorted(emulator.messages.items()) if c == ADMIN)
    done = emulator.wait_for("editMessageText", lambda p: p["text"].startswith("Reindex done"), timeout=60)
    edits = [c for c in emulator.calls if c.method == "editMessageText"
             and c.params["message_id"] == status["message_id"]]
    assert edits[-1] is done[0] and len(edits) >= 2  # progress, then the summary
    assert any("Reindexing… embedding" in c.params["text"] for c in edits)
    assert all(b.at - a.at >= 0.95 for a, b in zip(edits, edits[1:], strict=False))  # <= 1 edit/s
    assert f"(generation {generation + 1})" in done[0].params["text"]


def test_allowlist_refuses_everyone_else(emulator, start_bot):
    start_bot(allowed_user_ids=frozenset({51}))
    emulator.send("how many US troops are in Iraq?", user=52)
    emulator.send("lunch?", user=52, chat=-100777)
    emulator.send("/stats", user=ADMIN)
    emulator.send("how many US troops are in Iraq?", user=51)
    refusal = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 52)
    assert texts(refusal) == ["Sorry, this bot is private; ask its owner for access."]
    assert "2,500" in emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 51)[0].params["text"]
    assert emulator.wait_for("sendMessage", lambda p: p["chat_id"] == ADMIN)
    assert not emulator.sent(-100777)


def test_flooding_user_is_asked_to_slow_down_once(emulator, start_bot):
    start_bot(rate_limit_per_minute=2)
    for _ in range(4):
        emulator.send("how many US troops are in Iraq?", user=53)
    emulator.send("/help", user=53)
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 53, count=4))
    assert len(replies) == 4 and "2,500" in replies[0] and "2,500" in replies[1]
    assert replies[2].startswith("You're asking faster than I can read. Please wait")
    assert "/reindex" in replies[3]


def test_slow_chat_does_not_block_others_and_keeps_its_own_order(emulator, start_bot, qa):
    start_bot()
    qa.held["61"] = gate = threading.Event()
    try:
        emulator.send("how many US troops are in Iraq?", user=61)
        emulator.send("/help", user=61)
        emulator.send("/start", user=62)
        emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 62)
        assert not emulator.sent(61)
    finally:
        gate.set()
        del qa.held["61"]
    replies = texts(emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 61, count=2))
    assert "2,500" in replies[0] and "/reindex" in replies[1]


def test_bot_token_never_appears_in_logs(emulator, start_bot, indexed, caplog):
    caplog.set_level(logging.DEBUG)
    configure_logging(indexed)  # as run() does, before the application (which logs its URLs) exists
    start_bot()
    emulator.fail("sendMessage", 500, times=2)
    emulator.send("how many US troops are in Iraq?", user=71)
    emulator.send("/start", user=71)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 71)
    logging.getLogger("newsqa.test").warning("calling %s/bot%s/getMe", emulator.base_url, TOKEN)
    assert caplog.records and TOKEN not in caplog.text
    assert "Set Bot API URL: " + emulator.base_url + "<redacted>" in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("httpx")]


def test_bot_keeps_answering_after_another_process_deletes_and_rebuilds_its_index(
    emulator, start_bot, tmp_path
):
    root = tmp_path / "own"
    shutil.copytree(CORPUS, root / "corpus")
    env = {**os.environ, "CORPUS_DIR": str(root / "corpus"), "INDEX_DIR": str(root / "index")}

    def newsqa_index() -> None:  # another process, as an admin's shell or cron would run it
        done = subprocess.run([sys.executable, "-m", "newsqa", "index"], env=env, cwd=root,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr

    newsqa_index()
    start_bot(own_service=True, corpus_dir=root / "corpus", index_dir=root / "index")
    question = "How many US troops are in Iraq?"
    assert "2,500" in replies_to(emulator, 4242, question)[0]
    shutil.rmtree(root / "index")
    newsqa_index()
    reply = replies_to(emulator, 4242, question)[0]
    assert "2,500" in reply and "damaged" not in reply and "no index" not in reply.lower()
