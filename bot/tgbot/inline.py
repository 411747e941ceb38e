"""Inline mode: `@bot question` in any chat offers the answer and the best passages of other articles.

Telegram sends an inline query for every keystroke. A query shorter than `MIN_CHARS` is not
answered, and one waits `DEBOUNCE_S` first: if the user typed on meanwhile, only the newer query is
answered. The allowlist (the gate in `handlers`) and the per-user rate limit apply as to messages.
Answers come from the same `QA.ask` as every other answer (no conversation context: an inline query
has no chat). Each result carries an "Ask in private chat" button, a signed deep link
(`deeplink.py`) that `/start` answers in the private chat, where follow-ups work.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from newsqa.bot.tgbot.handlers import state
from newsqa.bot.tgbot.inline_render import inline_items

log = logging.getLogger(__name__)

MIN_CHARS = 3  # shorter queries are not answered
DEBOUNCE_S = 0.7  # a query is answered only if the user did not type on for this long
CACHE_S = 30  # Telegram may reuse results this long: answers change when the index does
ASK_PRIVATELY = "Ask in private chat"


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `@bot question` with up to three results, once the user stopped typing."""
    st, query = state(context), update.inline_query
    if query is None:
        return
    question, user_id = query.query.strip(), query.from_user.id
    if len(question) < MIN_CHARS:
        return
    st.debounce.arrived(user_id, query.id)
    await asyncio.sleep(DEBOUNCE_S)
    if not st.debounce.settled(user_id, query.id):
        log.debug("inline query %s superseded by a newer one", query.id)
        return
    personal = st.access.restricted
    if not st.limiter.allow(user_id):
        await query.answer([], cache_time=0, is_personal=True)
        return
    answer = await asyncio.to_thread(st.qa.ask, question)
    link = st.links.make(question)
    button = InlineKeyboardMarkup([[InlineKeyboardButton(ASK_PRIVATELY, url=link.url(context.bot.username))]])
    results = [
        InlineQueryResultArticle(
            id=item.id, title=item.title, description=item.description, reply_markup=button,
            input_message_content=InputTextMessageContent(item.html, parse_mode=ParseMode.HTML))
        for item in inline_items(answer)
    ]
    await query.answer(results, cache_time=CACHE_S, is_personal=personal,
                       button=InlineQueryResultsButton(ASK_PRIVATELY, start_parameter=link.payload))
