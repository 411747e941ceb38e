"""Pure formatting: service results → Telegram HTML messages, each within Telegram's 4,096 characters.

Everything that comes from articles or users goes through `html.escape`; nothing here imports telegram,
so it is tested on its own. Long texts are split at paragraph, then line, then sentence, then word
boundaries, never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newsqa.index.text.dates import byline, period_text
from newsqa.index.types import Answer, Progress, ReindexSummary

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units of the visible text
EXAMPLE_QUESTION = "How many US troops are in Iraq?"
_EXPANDABLE_QUOTE = 300  # longer passages are shown collapsed
_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(html_text: str) -> int:
    """Length Telegram counts: the text without tags, entities decoded, in UTF-16 units."""
    return utf16_len(html.unescape(_TAG.sub("", html_text)))


def plain_text(html_text: str) -> str:
    """The HTML we render as plain text (for resending when Telegram rejects the HTML)."""
    linked = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", html_text)
    return html.unescape(_TAG.sub("", linked))


@dataclass(frozen=True)
class _Block:
    """Plain `text` to escape, wrapped in `open`/`close` in every piece; `head` before the first."""

    text: str
    head: str = ""
    open: str = ""
    close: str = ""

    def pieces(self, limit: int) -> list[str]:
        wrap = visible_len(self.open + self.close)
        parts = split_text(self.text, limit - wrap - visible_len(self.head), limit - wrap) or [""]
        return [
            (self.head if i == 0 else "") + self.open + html.escape(part, quote=False) + self.close
            for i, part in enumerate(parts)
        ]


def split_text(text: str, first: int, rest: int | None = None) -> list[str]:
    """Split plain text into parts of at most `first` (then `rest`) UTF-16 units at natural breaks."""
    parts, budget = [], first
    rest = first if rest is None else rest
    if budget < 1 or rest < 1:
        raise ValueError(f"split budget must be positive, got {first} and {rest}")
    text = text.strip()
    while utf16_len(text) > budget:
        cut = _fit(text, budget)
        window = text[:cut]
        for sep in ("\n\n", "\n", ". ", "? ", "! ", " "):
            at = window.rfind(sep)
            if at > cut // 3:
                cut = at + len(sep.rstrip(" ")) if sep.strip() else at
                break
        parts.append(text[:cut].rstrip())
        text, budget = text[cut:].strip(), rest
    return parts + ([text] if text else [])


def _fit(text: str, budget: int) -> int:
    """Largest prefix length of `text` whose UTF-16 length is within `budget`."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            return max(i, 1)
    return len(text)


def pack(blocks: Iterable[_Block], *, sep: str = "\n\n", limit: int = MAX_MESSAGE) -> list[str]:
    """Join blocks into as few messages as fit, each at most `limit` visible characters."""
    messages: list[str] = []
    for piece in (p for block in blocks for p in block.pieces(limit)):
        if messages and visible_len(messages[-1] + sep + piece) <= limit:
            messages[-1] += sep + piece
        else:
            messages.append(piece)
    return messages


def _link(title: str, url: str | None) -> str:
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(title, quote=False)}</a>'
    return html.escape(title, quote=False)


def render_answer(answer: Answer, *, limit: int = MAX_MESSAGE) -> list[str]:
    """The answer with [n] markers, then each source (linked title) with its quoted passage; a follow-up
    opens with how it was read, so that a wrong reading can be corrected."""
    question = answer.resolved_question
    opening = [_Block(f"Reading it as: {question}", open="<i>", close="</i>")] if question else []
    if answer.period is not None and not answer.period.articles:
        # a time window that holds nothing: the answer searched every article
        searched = f"No article in my sources was {period_text(answer.period)}; I searched them all."
        opening.append(_Block(searched))
    if answer.abstained:
        blocks = opening + [
            _Block(
                "I couldn't find an answer to that in the indexed articles. Try rephrasing with "
                "the names, places or events you mean, or see /sources for what I have read."
            )
        ]
        if answer.citations:
            titles = "\n".join(f"• {_link(c.title, c.url)}" for c in answer.citations)
            blocks.append(_Block("", head=f"<b>Closest articles</b>\n{titles}"))
        return pack(blocks, limit=limit)
    lead = answer.lead
    blocks = opening + [
        _Block(answer.answer[len(lead) :], head=f"<b>{html.escape(lead, quote=False)}</b> " if lead else "")
    ]
    for i, cite in enumerate(answer.citations):
        quote = "<blockquote expandable>" if len(cite.text) > _EXPANDABLE_QUOTE else "<blockquote>"
        told = byline(cite.source_name, cite.published)
        told = f" — {html.escape(told, quote=False)}" if told else ""
        if cite.also_reported_by:
            told += html.escape(f" · also reported by {', '.join(cite.also_reported_by)}", quote=False)
        head = ("<b>Sources</b>\n" if i == 0 else "") + f"[{cite.n}] {_link(cite.title, cite.url)}{told}\n"
        blocks.append(_Block(cite.text, head=head, open=quote, close="</blockquote>"))
    return pack(blocks, limit=limit)


def render_sources(sources: Sequence[Mapping[str, Any]], *, limit: int = MAX_MESSAGE) -> list[str]:
    """The indexed articles, one linked line each."""
    if not sources:
        return ["No articles are indexed yet. An admin can run /reindex."]
    lines = [
        _Block(
            "",
            head=f"• {_link(str(s.get('title') or s.get('source')), s.get('url'))}"
            f" — {int(s.get('chunks') or 0)} passages",
        )
        for s in sources
    ]
    return pack([_Block("", head=f"<b>Indexed articles ({len(sources)})</b>"), *lines], sep="\n", limit=limit)


def render_stats(stats: Mapping[str, Any]) -> str:
    """Index statistics, one `key: value` line each."""
    lines = [
        f"{html.escape(str(k).replace('_', ' '))}: <code>{html.escape(str(v))}</code>"
        for k, v in stats.items()
    ]
    return "\n".join(["<b>Index</b>", *lines])[:MAX_MESSAGE]


def render_progress(progress: Progress | None) -> str:
    """One line for the reindex progress message."""
    if progress is None:
        return "Reindexing… starting"
    pct = f" ({100 * progress.done // progress.total}%)" if progress.total else ""
    return f"Reindexing… {html.escape(progress.stage)} {progress.done}/{progress.total}{pct}"


def render_summary(summary: ReindexSummary) -> str:
    """What a finished reindex did."""
    text = (
        f"Reindex done in {summary.seconds:.1f} s: {summary.added} added, {summary.updated} updated, "
        f"{summary.removed} removed, {summary.unchanged} unchanged; {summary.chunks} passages indexed "
        f"(generation {summary.generation})."
    )
    if summary.skipped:
        skipped = "\n".join(f"• {html.escape(s)}" for s in summary.skipped[:20])
        text += f"\nSkipped {len(summary.skipped)} file(s):\n{skipped}"
    return text[:MAX_MESSAGE]


def render_start(first_name: str | None) -> str:
    """The /start greeting with an example question."""
    name = f", {html.escape(first_name)}" if first_name else ""
    return (
        f"Hi{name}! I answer questions about the news articles I have read, quoting the passages "
        f"and citing the sources.\n\nTry: <i>{html.escape(EXAMPLE_QUESTION)}</i>\n\n"
        "Send /help for everything I can do."
    )


HELP = (
    "<b>How to ask</b>\n"
    "• In a private chat, just send your question. Follow-ups such as <i>and in Syria?</i> or "
    "<i>what did he say?</i> are read in the context of your last questions; /new starts afresh.\n"
    "• In a group, mention me (@{username} your question), reply to one of my messages, or use "
    "/ask your question.\n"
    "• In any chat, type @{username} and a question to share an answer there (inline mode).\n\n"
    "<b>Commands</b>\n"
    "/ask <i>question</i> — ask a question\n"
    "/new — start a new conversation\n"
    "/sources — the articles I have indexed\n"
    "/reindex — re-read the articles (admins)\n"
    "/stats — index statistics (admins)\n"
    "/add <i>URL</i> — fetch and index an article (admins)\n"
    "/feeds, /feeds add|remove <i>URL</i> — the followed feeds (admins)\n"
    "/refresh — fetch the feeds' new entries now (admins)\n\n"
    "Rate an answer with 👍 or 👎 to help improve me."
)


def render_help(username: str) -> str:
    return HELP.format(username=html.escape(username))
