"""Pure formatting of inline-mode results (`@bot question` in any chat): no telegram import here.

The first result is the answer (the short answer in bold, the answer with its [n] markers, the quoted
sentence when the answer does not already consist of it, and the linked sources); up to two more are
the best passages of other articles. Each result is one message, so it is kept well within Telegram's
4,096 characters, and everything from articles and questions is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from newsqa.bot.tgbot.render import _link
from newsqa.index.text.dates import byline
from newsqa.index.text.shorten import shorten
from newsqa.index.types import Answer, Chunk, outlet

MAX_RESULTS = 3
TITLE_CHARS, DESCRIPTION_CHARS = 100, 200  # what Telegram's result list shows in one or two lines
QUOTE_CHARS, PASSAGE_CHARS = 600, 1_500
MAX_SOURCES = 10  # listed under the answer: with the caps above, a result stays below 4,096 characters


@dataclass(frozen=True)
class InlineItem:
    """One inline result: what the list shows (title, description) and the message it sends (HTML)."""

    id: str
    title: str
    description: str
    html: str


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _told(chunk_site: str | None, published: str | None) -> str:
    told = byline(chunk_site, published)
    return f" — {_esc(told)}" if told else ""


def _answer_item(answer: Answer) -> InlineItem:
    head = f"❓ <i>{_esc(shorten(answer.question, 300))}</i>\n\n"
    if answer.abstained:
        text = "Not in my sources: I couldn't find an answer to that in the articles I have read."
        return InlineItem("answer", "Not in my sources", shorten(answer.question, DESCRIPTION_CHARS),
                          head + _esc(text))
    lead = answer.lead
    body = (f"<b>{_esc(lead)}</b> " if lead else "") + _esc(answer.answer[len(lead):])
    quote = answer.quotes[0] if answer.quotes else ""
    if quote and quote not in answer.answer:
        body += f"\n<blockquote>{_esc(shorten(quote, QUOTE_CHARS))}</blockquote>"
    sources = "\n".join(
        f"[{c.n}] {_link(shorten(c.title, TITLE_CHARS), c.url)}{_told(c.source_name, c.published)}"
        for c in answer.citations[:MAX_SOURCES])
    text = head + body + (f"\n\n<b>Sources</b>\n{sources}" if sources else "")
    title = answer.short_answer or shorten(answer.answer.split(" [", 1)[0], TITLE_CHARS)
    description = shorten(quote or answer.answer, DESCRIPTION_CHARS)
    return InlineItem("answer", shorten(title, TITLE_CHARS), description, text)


def _passage_item(n: int, question: str, chunk: Chunk) -> InlineItem:
    title = _link(shorten(chunk.title, TITLE_CHARS), chunk.url) + _told(outlet(chunk), chunk.published)
    quote = _esc(shorten(chunk.text, PASSAGE_CHARS))
    text = f"❓ <i>{_esc(shorten(question, 300))}</i>\n\n{title}\n<blockquote expandable>{quote}</blockquote>"
    return InlineItem(f"passage{n}", shorten(chunk.title, TITLE_CHARS),
                      shorten(chunk.text, DESCRIPTION_CHARS), text)


def inline_items(answer: Answer, *, limit: int = MAX_RESULTS) -> list[InlineItem]:
    """The answer, then the best passages of articles the answer does not cite (one each)."""
    items = [_answer_item(answer)]
    seen = {c.source for c in answer.citations}
    for passage in answer.retrieved:
        if len(items) >= limit:
            break
        chunk = passage.chunk
        if chunk.source not in seen:
            seen.add(chunk.source)
            items.append(_passage_item(len(items), answer.question, chunk))
    return items
