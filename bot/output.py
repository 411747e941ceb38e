"""How the CLI shows answers, summaries and progress on a terminal."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from typing import Any

import click

from newsqa.index.text.dates import byline, period_text
from newsqa.index.text.shorten import shorten
from newsqa.index.types import Answer, Progress, ReindexSummary

QUOTE_CHARS = 400


def print_answer(answer: Answer) -> None:
    """The answer, then its numbered sources with the passages quoted."""
    if answer.period is not None and not answer.period.articles:
        click.echo(f"No article in my sources was {period_text(answer.period)}; searched them all.")
    if answer.abstained:
        click.echo(
            "Not in my sources: the indexed articles do not answer this. Try rephrasing, or add articles."
        )
        return
    lead = answer.lead  # the short answer, in bold on a terminal
    click.echo(click.style(lead, bold=True) + answer.answer[len(lead) :])
    click.echo("")
    if answer.period is not None and answer.period.articles:
        count = answer.period.articles
        click.echo(f"Searched {count} article{'s' if count != 1 else ''} {period_text(answer.period)}.")
    click.echo("Sources:")
    for i, c in enumerate(answer.citations):
        where = f"{c.source}" + (f" <{c.url}>" if c.url else "")
        told = byline(c.source_name, c.published)
        click.echo(f"[{c.n}] {c.title}" + (f" — {told}" if told else "") + f" ({where})")
        if c.also_reported_by:
            click.echo(f"    also reported by {', '.join(c.also_reported_by)}")
        quote = answer.quotes[i] if i < len(answer.quotes) else c.text
        quote = shorten(quote, QUOTE_CHARS, ellipsis=" …")
        click.echo(textwrap.indent(textwrap.fill(quoted(quote), width=96), "    "))
    click.echo("")


def quoted(text: str) -> str:
    """`text` in quotation marks, without doubling marks it opens or closes with itself."""
    opening = "" if text.startswith(("“", '"')) else "“"
    closing = "" if text.endswith(("”", '"')) else "”"
    return f"{opening}{text}{closing}"


def print_summary(summary: ReindexSummary, err: bool = False) -> None:
    for warning in summary.skipped:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"indexed: {summary.added} added, {summary.updated} updated, {summary.removed} removed, "
        f"{summary.unchanged} unchanged articles; {summary.chunks} chunks ({summary.embedded} embedded) "
        f"in {summary.seconds:.1f} s",
        err=err,
    )


def progress_printer() -> Callable[[Progress], None] | None:
    """A tqdm bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def report(p: Progress) -> None:
        bar = bars.get(p.stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[p.stage] = tqdm(
                total=p.total,
                desc=p.stage,
                unit={"embedding": "chunk", "fetching": "page"}.get(p.stage, "article"),
                file=sys.stderr,
                leave=False,
            )
        bar.n = p.done
        bar.refresh()
        if p.done >= p.total:
            bar.close()

    return report
