"""Following the news from Telegram: the real PTB application against the Bot API emulator, the real
service and index, and a news site on 127.0.0.1 (tests/web_server.py)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from newsqa.bot.tgbot.app import build_application, serve
from newsqa.index.config import Settings
from newsqa.index.service import QA
from tests.botapi_emulator import TOKEN, BotApiEmulator, bot_thread
from tests.web_server import NewsSite, Page
from tests.webpages import FERRY, QUESTION, site_page

pytestmark = pytest.mark.timeout(180)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ADMIN = 777


def ferry_page(site: NewsSite, fare: str) -> Page:
    text = [FERRY[0].replace("4.20", fare), FERRY[1]]
    return Page(
        site_page(
            "Ferry fares to rise in April", text, url=site.url("/news/ferry.html"), published="2025-03-14"
        ).encode()
    )


@pytest.fixture
def run_bot(emulator: BotApiEmulator, tmp_path: Path) -> Iterator[Callable[..., QA]]:
    """Index a copy of the seed corpus and start the real application on it; settings overridable."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> QA:
            shutil.copytree(CORPUS, tmp_path / "corpus")
            settings = Settings(
                corpus_dir=tmp_path / "corpus",
                index_dir=tmp_path / "index",
                telegram_bot_token=TOKEN,
                telegram_base_url=emulator.base_url,
                admin_user_ids=frozenset({ADMIN}),
                rate_limit_per_minute=0,
                feedback_log=tmp_path / "feedback.jsonl",
                allow_private_urls=True,
                fetch_delay_s=0,
                fetch_timeout_s=2,
                **overrides,
            )
            qa = QA(settings)
            stack.callback(qa.close)
            qa.reindex()
            app = build_application(settings, qa=qa)
            stack.enter_context(bot_thread(app, lambda: serve(app, settings, stop_signals=None)))
            return qa

        yield start


def ask(emulator: BotApiEmulator, user: int, text: str) -> str:
    before = len(emulator.sent(user))
    emulator.send(text, user=user)
    emulator.wait_for("sendMessage", lambda p: p["chat_id"] == user, count=before + 1)
    return str(emulator.sent(user)[-1]["text"])


def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def test_followed_feed_is_refreshed_on_schedule_answered_by_url_and_corrected(
    emulator: BotApiEmulator, run_bot, news_site: NewsSite
):
    news_site.pages["/news/ferry.html"] = ferry_page(news_site, "4.20")
    news_site.pages["/feeds/rss.xml"].body = lambda: news_site.rss(["/news/ferry.html"])
    qa = run_bot(feed_refresh_minutes=0.02)  # every 1.2 s
    feed = news_site.url("/feeds/rss.xml")
    reply = ask(emulator, ADMIN, f"/feeds add {feed}")
    assert (
        reply == "Following Harbour Herald: World (1 entries now); its entries are fetched at the next "
        "refresh (or /refresh)."
    )
    url = news_site.url("/news/ferry.html")
    until(lambda: any(s["url"] == url for s in qa.sources()))
    answer = until(lambda: (text := ask(emulator, 42, QUESTION)) and "4.20" in text and text)
    assert "4.20 pounds" in answer and "Harbour Herald, 14 Mar 2025" in answer
    [sent] = [m for m in emulator.sent(42) if m["text"] == answer]
    assert f'<a href="{url}">Ferry fares to rise in April</a>' in sent["html"]  # cited by its URL

    news_site.pages["/news/ferry.html"] = ferry_page(news_site, "4.60")  # a correction
    corrected = until(lambda: (text := ask(emulator, 42, QUESTION)) and "4.60" in text and text)
    assert "4.20" not in corrected
    assert [s["source"] for s in qa.sources() if s["url"] == url] == [
        next(s["source"] for s in qa.sources() if s["url"] == url)
    ]  # still one article
    assert not [
        c
        for c in emulator.calls
        if c.method == "sendMessage"
        and c.params["chat_id"] == ADMIN
        and "refresh" in c.params["text"].lower()
        and "Following" not in c.params["text"]
    ]


def test_admin_add_replies_with_title_date_and_words_and_failures_in_one_line_each(
    emulator: BotApiEmulator, run_bot, news_site: NewsSite
):
    run_bot(feed_refresh_minutes=0)
    news_site.pages["/news/ferry.html"] = ferry_page(news_site, "4.20")
    emulator.send(f"/add {news_site.url('/news/ferry.html')} {news_site.url('/missing.html')}", user=ADMIN)
    [status] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == ADMIN and p["text"] == "Fetching…")
    [done] = emulator.wait_for("editMessageText", lambda p: "Reindex done" in p["text"], timeout=60)
    text = done.params["text"]
    assert "<b>Ferry fares to rise in April</b> — Harbour Herald, 14 Mar 2025, 64 words" in text
    assert f"❌ failed {news_site.url('/missing.html')}: HTTP 404 Not Found" in text
    assert "1 added" in text
    assert "4.20 pounds" in ask(emulator, 42, QUESTION)


def test_admin_lists_removes_and_refreshes_feeds(emulator: BotApiEmulator, run_bot, news_site: NewsSite):
    qa = run_bot(feed_refresh_minutes=0)
    atom, broken = news_site.url("/feeds/atom.xml"), news_site.url("/feeds/broken.xml")
    assert ask(emulator, ADMIN, "/feeds") == "I follow no feeds yet. Add one with /feeds add URL"
    assert ask(emulator, ADMIN, f"/feeds add {broken}").startswith(f"Cannot follow {broken}: broken feed XML")
    assert ask(emulator, ADMIN, f"/feeds add {atom}").startswith("Following Valley Times (2 entries now)")
    assert ask(emulator, ADMIN, "/feeds") == f"Feeds\n• Valley Times: {atom}"
    emulator.send("/refresh", user=ADMIN)
    [done] = emulator.wait_for("editMessageText", lambda p: "Reindex done" in p["text"], timeout=90)
    assert "2 added" in done.params["text"] and done.params["text"].count("🆕") == 2
    assert len([s for s in qa.sources() if s["source"].startswith("web/")]) == 2
    assert ask(emulator, ADMIN, f"/feeds remove {atom}") == f"Stopped following {atom}; its articles stay."
    assert ask(emulator, ADMIN, "/feeds") == "I follow no feeds yet. Add one with /feeds add URL"


def test_non_admins_cannot_add_follow_or_refresh(emulator: BotApiEmulator, run_bot, news_site: NewsSite):
    qa = run_bot(feed_refresh_minutes=0)
    url = news_site.url("/news/drawdown.html")
    assert ask(emulator, 41, f"/add {url}") == "Sorry, /add is only for the bot's admins."
    assert ask(emulator, 41, f"/feeds add {url}") == "Sorry, /feeds is only for the bot's admins."
    assert ask(emulator, 41, "/refresh") == "Sorry, /refresh is only for the bot's admins."
    assert news_site.requests == [] and not (qa.settings.corpus_dir / "web").exists()


def test_admins_see_add_feeds_and_refresh_in_their_command_menu(emulator: BotApiEmulator, run_bot):
    run_bot(feed_refresh_minutes=0)
    public, admin = emulator.wait_for("setMyCommands", count=2)
    assert not {"add", "feeds", "refresh"} & {c["command"] for c in public.params["commands"]}
    assert {"add", "feeds", "refresh", "reindex"} <= {c["command"] for c in admin.params["commands"]}


def test_questions_are_answered_while_a_refresh_is_fetching(
    emulator: BotApiEmulator, run_bot, news_site: NewsSite
):
    run_bot(feed_refresh_minutes=0)
    gate = threading.Event()
    news_site.pages["/news/ferry.html"] = ferry_page(news_site, "4.20")
    news_site.pages["/news/ferry.html"].gate = gate
    news_site.pages["/feeds/rss.xml"].body = lambda: news_site.rss(["/news/ferry.html"])
    assert ask(emulator, ADMIN, f"/feeds add {news_site.url('/feeds/rss.xml')}").startswith("Following")
    try:
        emulator.send("/refresh", user=ADMIN)
        until(lambda: news_site.hits("/news/ferry.html"))  # the refresh is waiting for the page
        assert (
            ask(emulator, ADMIN, "/refresh") == "A reindex or refresh is already running; I'll update its "
            "message when it's done."
        )
        assert "2,500" in ask(emulator, 42, "How many US troops are in Iraq?")
    finally:
        gate.set()
    [done] = emulator.wait_for("editMessageText", lambda p: "Reindex done" in p["text"], timeout=60)
    assert "1 added" in done.params["text"]
    assert "4.20 pounds" in ask(emulator, 42, QUESTION)
