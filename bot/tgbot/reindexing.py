"""A reindex in the background that edits one status message as it goes (at most once a second)."""

from __future__ import annotations

import asyncio
import html
import logging
import time

from telegram import Message
from telegram.ext import Application

from newsqa.bot.tgbot.messaging import EDIT_EVERY_S, edit_status
from newsqa.bot.tgbot.render import render_progress, render_summary
from newsqa.index.errors import NewsqaError, ReindexBusyError
from newsqa.index.service import QA
from newsqa.index.types import Progress

log = logging.getLogger(__name__)


class ReindexJob:
    """At most one bot-started reindex at a time; the service refuses any other concurrent one."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, application: Application, update: object, qa: QA, status: Message, *,  # type: ignore[type-arg]
              rebuild: bool) -> None:
        self._task = application.create_task(_run(qa, status, rebuild=rebuild), update, name="reindex")


async def _run(qa: QA, status: Message, *, rebuild: bool) -> None:
    loop = asyncio.get_running_loop()
    latest: list[Progress] = []

    def on_progress(progress: Progress) -> None:  # called in the worker thread
        loop.call_soon_threadsafe(latest.append, progress)

    worker = asyncio.ensure_future(asyncio.to_thread(qa.reindex, rebuild=rebuild, progress=on_progress))
    shown, edited_at = render_progress(None), time.monotonic()
    while not worker.done():
        await asyncio.wait([worker], timeout=EDIT_EVERY_S)
        text = render_progress(latest[-1] if latest else None)
        del latest[:-1]
        if text != shown and not worker.done():
            await edit_status(status, text)
            shown, edited_at = text, time.monotonic()
    try:
        text = render_summary(worker.result())
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
