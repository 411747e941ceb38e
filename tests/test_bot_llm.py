"""The real bot with an LLM configured: streamed, verified answers and every fallback, end to end.

The PTB application polls the Bot API emulator; the service asks the OpenAI-compatible test double.
"""

from __future__ import annotations

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


def test_llm_answer_streams_into_one_message_edited_at_most_once_a_second(bot, llm):
    emulator = bot()
    llm.script(cited(STREAMED, Reply(piece_delay_s=0.04), a=FIGURE, b="future role"))
    emulator.send(QUESTION, user=81)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == 81 and "reply_markup" in p, timeout=30
    )
    calls = _shown(emulator, 81)
    assert [c.method for c in calls].count("sendMessage") == 1 and len(calls) >= 3
    assert calls[0].params["text"].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
    assert all(c.params["text"].endswith(" …") for c in calls[:-1])
    assert all(b.at - a.at >= 0.95 for a, b in zip(calls, calls[1:], strict=False))  # flood limits
    assert not any("9,000" in c.params["text"] for c in calls)  # unverified text is never shown
    text = final.params["text"]
    assert final is calls[-1] and final.params["parse_mode"] == "HTML" and "<b>Sources</b>" in text
    assert "They are tasked with advising and training Iraqi forces. [1]" in text and "[2]" in text
    assert [b["text"] for b in final.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]


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
    assert parts[0].startswith("Presently, there are roughly 2,500 U.S. troops")
    assert "<b>Sources</b>" in "".join(parts)
    assert len(llm.requests) == 1 and not [c for c in emulator.calls if c.method == "editMessageText"]


def test_stream_that_stalls_after_a_verified_sentence_ends_as_the_extractive_answer(bot, llm):
    emulator = bot()
    llm.script(cited(STREAMED, Reply(stall_after=14), a=FIGURE, b="future role"))
    emulator.send(QUESTION, user=83)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == 83 and "parse_mode" in p, timeout=30
    )
    partial = _shown(emulator, 83)[0]
    assert partial.params["text"] == "Roughly 2,500 U.S. troops are stationed in Iraq. [1] …"
    assert final.params["text"].startswith("Presently, there are roughly 2,500 U.S. troops")
    assert final.at - partial.at >= 0.95


def test_unanswerable_question_is_refused_without_asking_the_llm(bot, llm):
    emulator = bot()
    emulator.send("What is the capital of Peru?", user=84)
    [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 84)
    assert "couldn't find an answer" in reply.params["text"] and not llm.requests


def test_final_edit_rejected_as_html_is_made_as_plain_text(bot, llm, qa):
    emulator = bot()
    qa.conversations.forget("85")
    emulator.fail("editMessageText", 400, when=lambda p: p.get("parse_mode") == "HTML")
    llm.script(cited(GOOD_SHORT, Reply(piece_delay_s=0.02), a=FIGURE))
    emulator.send(QUESTION, user=85)
    [final] = emulator.wait_for(
        "editMessageText", lambda p: p["chat_id"] == 85 and "Sources" in p["text"], timeout=30
    )
    assert "parse_mode" not in final.params and "Sources\n[1]" in final.params["text"]
    assert final.params["text"].startswith("Roughly 2,500 U.S. troops are stationed in Iraq. [1]")
