"""The bot's commands in one table: the handlers registered and both menus come from it.

A new command is one line in `COMMANDS` (with its handler); `admin=True` puts it in the admins' menu
only (each admin's chat scope), and its handler checks the caller with `handlers._admin`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import ContextTypes

from newsqa.bot.tgbot import feeds, handlers

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    """A command: its name, its line in the menu, its handler, and whether only admins see it."""

    name: str
    description: str
    callback: Callback
    admin: bool = False


COMMANDS = (
    Command("ask", "Ask a question about the news", handlers.ask_command),
    Command("new", "Start a new conversation (forget the previous questions)", handlers.new_conversation),
    Command("sources", "The articles I have indexed", handlers.sources),
    Command("help", "How to ask", handlers.help_command),
    Command("start", "Greeting and an example question", handlers.start),
    Command("reindex", "Re-read the articles (admins)", handlers.reindex, admin=True),
    Command("stats", "Index statistics (admins)", handlers.stats, admin=True),
    Command("add", "Fetch and index article URLs (admins)", feeds.add, admin=True),
    Command("feeds", "List, add or remove followed feeds (admins)", feeds.feeds, admin=True),
    Command("refresh", "Fetch new entries of the feeds now (admins)", feeds.refresh, admin=True),
)


def menu(*, admin: bool, commands: tuple[Command, ...] = COMMANDS) -> list[BotCommand]:
    """The command menu: everyone's, or an admin's (everyone's plus the admin commands)."""
    return [BotCommand(c.name, c.description) for c in commands if admin or not c.admin]
