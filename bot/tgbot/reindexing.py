"""A reindex (or a fetch, then a reindex) in the background that edits one status message as it goes
(at most once a second)."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from telegram import Message
from telegram.ext import Application

from newsqa.bot.tgbot.messaging import EDIT_EVERY_S, edit_status
from newsqa.bot.tgbot.render import render_progress, render_summary
from newsqa.index.errors import NewsqaError, ReindexBusyError
from newsqa.index.service import QA
from newsqa.index.types import Progress

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReindexJob:
    """At most one bot-started reindex at a time; the service refuses any other concurrent one."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, application: Application, update: object, qa: QA, status: Message, *,  # type: ignore[type-arg]
              rebuild: bool) -> None:
        self.run(application, update, status,
                 lambda progress: qa.reindex(rebuild=rebuild, progress=progress), render_summary)

    def run(self, application: Application, update: object, status: Message,  # type: ignore[type-arg]
            work: Callable[[Callable[[Progress], None]], T], done_text: Callable[[T], str], *,
            progress_text: Callable[[Progress | None], str] = render_progress, name: str = "reindex") -> None:
        """Run `work(progress)` in a thread (a reindex, or a fetch then a reindex), editing `status`
        with its progress and then with `done_text` of its result."""
        task = edit_progress(status, work, done_text, progress_text)
        self._task = application.create_task(task, update, name=name)


async def edit_progress(status: Message, work: Callable[[Callable[[Progress], None]], T],
                        done_text: Callable[[T], str],
                        progress_text: Callable[[Progress | None], str] = render_progress) -> None:
    """Edit `status` with `work`'s progress at most once a second, then with its outcome."""
    loop = asyncio.get_running_loop()
    latest: list[Progress] = []

    def on_progress(progress: Progress) -> None:  # called in the worker thread
        loop.call_soon_threadsafe(latest.append, progress)

    worker = asyncio.ensure_future(asyncio.to_thread(work, on_progress))
    shown, edited_at = progress_text(None), time.monotonic()
    while not worker.done():
        await asyncio.wait([worker], timeout=EDIT_EVERY_S)
        text = progress_text(latest[-1] if latest else None)
        del latest[:-1]
        if text != shown and not worker.done():
            await edit_status(status, text)
            shown, edited_at = text, time.monotonic()
    try:
        text = done_text(worker.result())
    except ReindexBusyError:
        text = "Another reindex (perhaps from the command line) is already running; try again later."
    except NewsqaError as exc:
        log.error("reindex failed: %s", exc, exc_info=exc)
        text = f"Reindex failed: {html.escape(str(exc))}. The previous index keeps answering."
    except Exception:
        await edit_status(status, "Reindex failed unexpectedly; the previous index keeps answering.")
        raise  # to the application's error handler, which logs the traceback
    await asyncio.sleep(max(0.0, EDIT_EVERY_S - (time.monotonic() - edited_at)))
    await edit_status(status, text)
