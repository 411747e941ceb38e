"""Following the news from Telegram: /add, /feeds, /refresh (admins) and the scheduled feed refresh."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from newsqa.bot.tgbot.handlers import _admin, _after_command, _message, state
from newsqa.bot.tgbot.messaging import reply_html
from newsqa.bot.tgbot.render import MAX_MESSAGE, render_progress, render_summary
from newsqa.index.config import Settings
from newsqa.index.errors import NewsqaError, ReindexBusyError, WebError
from newsqa.index.text.dates import byline
from newsqa.index.types import Progress

log = logging.getLogger(__name__)

BUSY = "A reindex or refresh is already running; I'll update its message when it's done."
FEEDS_USAGE = "Usage: /feeds, /feeds add URL or /feeds remove URL"
JOB = "feed-refresh"
SHOWN_LINES = 20


def schedule(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Refresh the feeds every FEED_REFRESH_MINUTES (0: never), first one interval after start."""
    if not settings.feed_refresh_minutes:
        return
    if application.job_queue is None:
        log.warning("no job queue (python-telegram-bot[job-queue] is not installed): feeds are not refreshed")
        return
    every = settings.feed_refresh_minutes * 60
    application.job_queue.run_repeating(
        scheduled_refresh,
        interval=every,
        first=every,
        name=JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )


async def scheduled_refresh(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job: refresh and reindex unless a refresh ran recently here or on a replica, or one runs."""
    st = state(context)
    if st.reindex.running:
        log.info("scheduled feed refresh skipped: a reindex or refresh started from Telegram is running")
        return
    try:
        done = await asyncio.to_thread(st.qa.refresh_feeds, scheduled=True)
    except ReindexBusyError as exc:
        log.info("scheduled feed refresh skipped: %s", exc)
        return
    except NewsqaError as exc:
        log.error("scheduled feed refresh failed: %s; the previous index keeps answering", exc)
        return
    if done is None:
        log.info("scheduled feed refresh skipped: another replica refreshed the feeds moments ago")
        return
    for line in done.failures:
        log.warning("feed refresh: %s", line)
    log.info("feed refresh: %s", _counts(done))


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add URL [URL…]: fetch the articles, index them, reply with each title, date and word count."""
    if not await _admin(update, context, "add"):
        return
    st, message = state(context), _message(update)
    urls = _after_command(message.text).split()
    if not urls:
        await message.reply_text("Usage: /add URL [URL…] (article pages; they are fetched and indexed)")
        return
    await _fetch_and_index(update, context, lambda progress: st.qa.add_urls(urls, progress), "add")


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/refresh: poll the feeds now, fetch new and changed entries, reindex."""
    if not await _admin(update, context, "refresh"):
        return
    st = state(context)
    await _fetch_and_index(update, context, lambda progress: st.qa.refresh_feeds(progress), "refresh")


async def _fetch_and_index(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    work: Callable[[Callable[[Progress], None]], Any],
    name: str,
) -> None:
    """Run `work` (a fetch and reindex) in the background, its progress and summary edited into one
    message, as /reindex does; refused while a reindex or refresh runs."""
    st, message = state(context), _message(update)
    if st.reindex.running:
        await message.reply_text(BUSY)
        return
    status = await message.reply_text(progress_text(None))
    st.reindex.run(
        context.application, update, status, work, render_web, progress_text=progress_text, name=name
    )


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feeds lists the followed feeds; /feeds add URL and /feeds remove URL change the list."""
    if not await _admin(update, context, "feeds"):
        return
    st, message = state(context), _message(update)
    words = _after_command(message.text).split()
    action, url = (words[0].lower() if words else ""), (words[1] if len(words) == 2 else "")
    try:
        if not words:
            text = render_feeds(await asyncio.to_thread(st.qa.feeds))
        elif action == "add" and url:
            followed, entries = await asyncio.to_thread(st.qa.follow_feed, url)
            text = (
                f"Following <b>{html.escape(followed.title or followed.url)}</b> ({entries} entries now); "
                "its entries are fetched at the next refresh (or /refresh)."
            )
        elif action == "remove" and url:
            removed = await asyncio.to_thread(st.qa.unfollow_feed, url)
            text = (
                f"Stopped following {html.escape(url)}; its articles stay."
                if removed
                else f"I am not following {html.escape(url)}; see /feeds."
            )
        else:
            text = FEEDS_USAGE
    except WebError as exc:
        text = f"Cannot follow {html.escape(exc.url)}: {html.escape(exc.reason)}"
    await reply_html(message, [text])


def progress_text(progress: Progress | None) -> str:
    """One line for the status message of /add and /refresh."""
    if progress is None:
        return "Fetching…"
    if progress.stage == "fetching":
        return f"Fetching… {progress.done}/{progress.total} pages"
    return render_progress(progress)


def render_feeds(found: list[Any]) -> str:
    if not found:
        return "I follow no feeds yet. Add one with /feeds add URL"
    lines = [f"• {html.escape(f.title or '(no title)')}: {html.escape(f.url)}" for f in found]
    return ("<b>Feeds</b>\n" + "\n".join(lines))[:MAX_MESSAGE]


def render_web(done: Any) -> str:
    """What /add or /refresh did: each article added or updated (title, date, words), each failure
    on one line, then the reindex summary."""
    lines = [f"❌ {html.escape(line)}" for line in done.failures]
    for page in done.pages:
        if page.ok and page.status != "unchanged":
            told = byline(page.site, page.published)
            when = f" — {html.escape(told)}" if told else ""
            title = html.escape(page.title or page.url)
            lines.append(
                f"{'🆕' if page.status == 'added' else '✏️'} <b>{title}</b>{when}, {page.words:,} words"
            )
    if done.pruned:
        lines.append(f"Removed {len(done.pruned)} article(s) older than KEEP_DAYS.")
    if len(lines) > SHOWN_LINES:
        lines = lines[:SHOWN_LINES] + [f"… and {len(lines) - SHOWN_LINES} more"]
    unchanged = done.count("unchanged")
    if unchanged:
        lines.append(f"{unchanged} article(s) unchanged.")
    if not lines:
        lines.append("Nothing new.")
    tail = render_summary(done.reindex) if done.reindex is not None else ""
    return ("\n".join(lines) + "\n\n" + tail).strip()[:MAX_MESSAGE]


def _counts(done: Any) -> str:
    return (
        f"{done.count('added')} added, {done.count('updated')} updated, {done.count('unchanged')} unchanged, "
        f"{len(done.failures)} failed, {len(done.pruned)} pruned"
    )
