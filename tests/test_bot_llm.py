"""The real bot with an LLM configured: streamed, verified answers and every fallback, end to end.

The PTB application polls the Bot API emulator; the service asks the OpenAI-compatible test double.
Private chats stream as native drafts (sendMessageDraft), groups by editing one message.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from newsqa.bot.tgbot.app import build_application, serve
from newsqa.index.config import Settings
from newsqa.index.service import QA
from tests.botapi_emulator import TOKEN, BotApiEmulator, bot_thread
from tests.llm_double import LLMTestDouble, Reply, cited

from .conftest import SEED_CORPUS

pytestmark = pytest.mark.timeout(120)

QUESTION = "how many US troops are in Iraq?"
GROUP = -100800
MENTION = "@newsqa_test_bot "
FIGURE = "roughly 2,500"
GOOD_SHORT = "Roughly 2,500 U.S. troops are stationed in Iraq [{a}]. They advise Iraqi forces [{a}]."
STREAMED = (
    "Roughly 2,500 U.S. troops are stationed in Iraq [{a}]. Some 9,000 contractors also remain there [{a}]. "
    "They are tasked with advising and training Iraqi forces [{a}]. Talks on their future role continue in "
    "Washington [{b}]."
)


@pytest.fixture(scope="module")
def double() -> Iterator[LLMTestDouble]:
    with LLMTestDouble() as server:
        yield server


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory, double: LLMTestDouble, embedder: Any) -> Iterator[QA]:
    root = tmp_path_factory.mktemp("llm-bot")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    settings = Settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        telegram_bot_token=TOKEN,
        rate_limit_per_minute=0,
        llm_base_url=double.base_url,
        llm_model="double",
        llm_timeout_s=1.0,
    )
    service = QA(settings, embedder=embedder)
    service.reindex()
    yield service
    service.close()


@pytest.fixture
def llm(double: LLMTestDouble) -> LLMTestDouble:
    double.replies.clear()
    double.requests.clear()
    return double


@pytest.fixture
def bot(qa: QA, llm: LLMTestDouble, tmp_path: Path) -> Iterator[Callable[[], BotApiEmulator]]:
    with ExitStack() as stack:
        emulator = stack.enter_context(BotApiEmulator())
        settings = qa.settings.with_overrides(
            telegram_base_url=emulator.base_url, feedback_log=tmp_path / "feedback.jsonl"
        )
        app = build_application(settings, qa=qa)
        stack.enter_context(bot_thread(app, lambda: serve(app, settings, stop_signals=None)))
        yield lambda: emulator


def _shown(emulator: BotApiEmulator, chat: int) -> list[Any]:
    """Every send or edit of a text in `chat`, in order."""
    return [
        c
        for c in emulator.calls
        if c.method in ("sendMessage", "editMessageText")
        and c.params.get("chat_id") == chat
        and c.status == 200
    ]


def test_group_llm_answer_streams_into_one_message_edited_at_most_once_a_second(bot, llm):
    emulator = bot()
    llm.script(cited(STREAMED, Reply(piece_delay_s=0.04), a=FIGURE, b="future role"))
    emulator.send(MENTION + QUESTION, user=81, chat=GROUP)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == GROUP and "reply_markup" in p, timeout=30
    )
    calls = _shown(emulator, GROUP)
    assert [c.method for c in calls].count("sendMessage") == 1 and len(calls) >= 3
    assert calls[0].params["text"].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
    assert all(c.params["text"].endswith(" …") for c in calls[:-1])
    assert all(b.at - a.at >= 0.95 for a, b in zip(calls, calls[1:], strict=False))  # flood limits
    assert not any("9,000" in c.params["text"] for c in calls)  # unverified text is never shown
    text = final.params["text"]
    assert final is calls[-1] and final.params["parse_mode"] == "HTML" and "<b>Sources</b>" in text
    assert "They are tasked with advising and training Iraqi forces. [1]" in text and "[2]" in text
    assert [b["text"] for b in final.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]
    assert not emulator.drafts  # drafts are for private chats only


def test_private_llm_answer_streams_as_drafts_then_arrives_as_a_normal_message(bot, llm):
    emulator = bot()
    llm.script(cited(STREAMED, Reply(piece_delay_s=0.04), a=FIGURE, b="future role"))
    asked = emulator.send(QUESTION, user=86)
    [final] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 86, timeout=30)
    drafts = [c for c in emulator.calls if c.method == "sendMessageDraft"]
    assert drafts and all(d.status == 200 and d.at <= final.at for d in drafts)  # drafts first
    assert {d.params["draft_id"] for d in drafts} == {asked["message_id"]}  # one draft, animated
    shown = [d.params["text"] for d in drafts]
    assert shown[0].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
    assert all(t.endswith(" …") for t in shown) and not any("9,000" in t for t in shown)  # verified only
    assert any("advising and training" in t for t in shown)  # it grew as sentences verified
    text = final.params["text"]
    assert final.params["parse_mode"] == "HTML" and "<b>Sources</b>" in text and "[2]" in text
    assert "They are tasked with advising and training Iraqi forces. [1]" in text
    assert [b["text"] for b in final.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]
    assert [c.method for c in _shown(emulator, 86)] == ["sendMessage"]  # no partial message, no edits


def test_draft_failure_falls_back_to_edits_and_is_logged_once(bot, llm, caplog):
    caplog.set_level(logging.INFO)
    emulator = bot()
    emulator.draft_error = (400, "Bad Request: TEXTDRAFT_PEER_INVALID")
    for user in (87, 88):
        llm.script(cited(GOOD_SHORT, Reply(piece_delay_s=0.02), a=FIGURE))
        emulator.send(QUESTION, user=user)
        [final] = emulator.wait_for(
            "editMessageText", lambda p, u=user: p["chat_id"] == u and "reply_markup" in p, timeout=30
        )
        calls = _shown(emulator, user)
        assert [c.method for c in calls][0] == "sendMessage" and calls[-1] is final
        assert calls[0].params["text"].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
        assert "<b>Sources</b>" in final.params["text"]
    refused = [c for c in emulator.calls if c.method == "sendMessageDraft"]
    assert [c.status for c in refused] == [400]  # refused once: not tried again for the second answer
    warnings = [r for r in caplog.records if r.name.endswith("drafts") and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "textdraft_peer_invalid" in warnings[0].getMessage().lower()


def test_draft_network_error_falls_back_for_that_answer_only(bot, llm):
    emulator = bot()
    emulator.fail("sendMessageDraft", 500)
    llm.script(cited(GOOD_SHORT, Reply(piece_delay_s=0.02), a=FIGURE))
    emulator.send(QUESTION, user=89)
    emulator.wait_for("editMessageText", lambda p: p["chat_id"] == 89 and "reply_markup" in p, timeout=30)
    llm.script(cited(GOOD_SHORT, Reply(piece_delay_s=0.02), a=FIGURE))
    emulator.send(QUESTION, user=90)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 90 and "reply_markup" in p, timeout=30)
    assert [c.method for c in _shown(emulator, 90)] == ["sendMessage"]  # drafts worked again
    assert {d["chat_id"] for d in emulator.drafts} == {90}


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, body=b'{"error": {"message": "boom"}}'),
        Reply(body=b"data: {not json"),
        Reply(delay_s=5),
        Reply("Roughly 2,500 U.S. troops are stationed in Iraq [7]."),
        Reply("Roughly 3,000 U.S. troops are stationed in Iraq."),
    ],
    ids=["http-500", "malformed-json", "timeout", "unknown-source", "uncited-number"],
)
def test_llm_failure_sends_the_extractive_answer(bot, llm, qa, reply):
    emulator = bot()
    qa.conversations.forget("82")  # a fresh question, not a follow-up of the previous case
    llm.script(reply)
    emulator.send(QUESTION, user=82)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 82 and "reply_markup" in p, timeout=30)
    parts = [c.params["text"] for c in _shown(emulator, 82)]  # a long answer comes in several parts
    assert parts[0].startswith("<b>2,500</b> [1]") and "“Presently, there are roughly 2,500 U.S." in parts[0]
    assert "<b>Sources</b>" in "".join(parts)
    assert len(llm.requests) == 1 and not [c for c in emulator.calls if c.method == "editMessageText"]


def test_stream_that_stalls_after_a_verified_sentence_ends_as_the_extractive_answer(bot, llm):
    emulator = bot()
    llm.script(cited(STREAMED, Reply(stall_after=14), a=FIGURE, b="future role"))
    emulator.send(MENTION + QUESTION, user=83, chat=GROUP - 3)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == GROUP - 3 and "parse_mode" in p, timeout=30
    )
    partial = _shown(emulator, GROUP - 3)[0]
    assert partial.params["text"] == "Roughly 2,500 U.S. troops are stationed in Iraq. [1] …"
    assert final.params["text"].startswith("<b>2,500</b> [1]")
    assert "“Presently, there are roughly 2,500 U.S. troops" in final.params["text"]
    assert final.at - partial.at >= 0.95


def test_unanswerable_question_is_refused_without_asking_the_llm(bot, llm):
    emulator = bot()
    emulator.send("What is the capital of Peru?", user=84)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 84)
    assert "couldn't find an answer" in reply.params["text"] and not llm.requests


def test_final_edit_rejected_as_html_is_made_as_plain_text(bot, llm, qa):
    emulator = bot()
    emulator.fail("editMessageText", 400, when=lambda p: p.get("parse_mode") == "HTML")
    llm.script(cited(GOOD_SHORT, Reply(piece_delay_s=0.02), a=FIGURE))
    emulator.send(MENTION + QUESTION, user=85, chat=GROUP - 5)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == GROUP - 5 and "Sources" in p["text"], timeout=30
    )
    assert "parse_mode" not in final.params and "Sources\n[1]" in final.params["text"]
    assert final.params["text"].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
