"""The `newsqa` command line: index, ask, chat, eval, sources, serve, add, feeds."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click

from newsqa.bot.common import (
    BOT_LOG_FORMAT,
    edge,
    ensure_index,
    load_settings,
    service,
    settings_options,
    stdin_lines,
)
from newsqa.bot.evalcmd import eval_command
from newsqa.bot.output import print_answer, print_summary, progress_printer
from newsqa.bot.webcmd import add, feeds
from newsqa.index.errors import NewsqaError, QuestionError
from newsqa.index.text.shorten import shorten
from newsqa.index.types import Answer, When

DAY = click.DateTime(["%Y-%m-%d"])  # YYYY-MM-DD
ERROR_QUESTION_CHARS = 200  # a refused question is echoed back in its error line, shortened
CHAT = "cli"  # `newsqa chat` is one conversation (until /new)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsqa")
def main() -> None:
    """newsqa: answers questions about a collection of news articles, quoting and citing them.

    Put articles (.txt, .md, .html) in corpus/, run `newsqa index`, then `newsqa ask "…"`; or fetch
    them: `newsqa add URL`, `newsqa feeds add URL` then `newsqa feeds refresh`.
    Settings come from flags, the environment and .env (see .env.example).
    """


@main.command()
@settings_options
@click.option("--rebuild", is_flag=True, help="Re-embed every article instead of only new and changed ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@edge
def index(rebuild: bool, as_json: bool, **options: Any) -> None:
    """Index the corpus: only new and changed articles are embedded; deleted ones disappear."""
    qa = service(load_settings(**options))
    summary = qa.reindex(rebuild=rebuild, progress=None if as_json else progress_printer())
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        print_summary(summary)


@main.command()
@settings_options
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@click.option(
    "-k",
    "--top-k",
    type=click.IntRange(1, 20),
    help="List N sources: those quoted, then further articles (default: the quoted ones, at most TOP_K).",
)
@click.option(
    "--as-of",
    type=DAY,
    help="Read 'last week', 'yesterday', 'this month'… against this day [env AS_OF; default today].",
)
@click.option("--since", type=DAY, help="Only articles published on or after this day.")
@click.option("--until", type=DAY, help="Only articles published on or before this day.")
@edge
def ask(
    question: str,
    as_json: bool,
    top_k: int | None,
    as_of: datetime | None,
    since: datetime | None,
    until: datetime | None,
    **options: Any,
) -> None:
    """Answer QUESTION from the corpus, with citations; '-' reads one question per line from stdin.

    Time phrases in the question ("last week", "in 2024", "since January", "yesterday", "this month")
    restrict it to articles published then; --since/--until do the same explicitly."""
    today: dict[str, Any] = {"as_of": as_of.date()} if as_of else {}  # else AS_OF, else today
    settings = load_settings(**options, **today)
    when = When(since=since.date() if since else None, until=until.date() if until else None)
    qa = service(settings)
    ensure_index(qa)
    if question != "-":
        show(qa.ask(question, k=top_k, when=when), as_json)
        return
    codes: set[int] = set()  # a refused question exits 2, another failure 1; the rest are still answered
    for text in stdin_lines():
        if not text.strip():
            continue
        try:
            answer = qa.ask(text, k=top_k, when=when)
        except NewsqaError as exc:
            codes.add(2 if isinstance(exc, QuestionError) else 1)
            asked = shorten(" ".join(text.split()), ERROR_QUESTION_CHARS)
            click.echo(
                json.dumps({"question": asked, "error": str(exc)}, ensure_ascii=False)
                if as_json
                else f"error: {exc}"
            )
            continue
        show(answer, as_json)
    if codes:
        sys.exit(min(codes))


def show(answer: Answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print_answer(answer)


@main.command()
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question (as `ask --json`).")
@edge
def chat(as_json: bool, **options: Any) -> None:
    """Ask questions interactively; follow-ups ("and in Syria?", "what did he say?") are read in
    the context of the conversation, and /new starts a new one."""
    qa = service(load_settings(**options))
    ensure_index(qa)
    if not as_json:
        click.echo(
            "Ask about the news in the corpus. /new starts a new conversation; empty line or Ctrl-D quits.",
            err=True,
        )
    for text in stdin_lines(prompt="" if as_json else "? "):
        if not text.strip():
            break
        if text.strip().lower() == "/new":
            qa.new_conversation(CHAT)
            if not as_json:
                click.echo("(new conversation)", err=True)
            continue
        try:
            answer = qa.ask(text, chat_id=CHAT)
        except NewsqaError as exc:  # one question failed (the index is being rebuilt…): keep chatting
            if as_json:
                asked = shorten(" ".join(text.split()), ERROR_QUESTION_CHARS)
                click.echo(json.dumps({"question": asked, "error": str(exc)}, ensure_ascii=False))
            else:
                click.echo(f"error: {exc}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
            continue
        if answer.resolved_question:
            click.echo(click.style(f"(reading it as: {answer.resolved_question})", dim=True))
        print_answer(answer)


@main.command()
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@edge
def sources(as_json: bool, **options: Any) -> None:
    """List the indexed articles."""
    qa = service(load_settings(**options))
    items = qa.sources()
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        click.echo(f"{item['source']}\t{item['chunks']} chunks\t{item['published'] or '-'}\t{item['title']}")


@main.command()
@settings_options
@edge
def serve(**options: Any) -> None:
    """Run the Telegram bot (long polling, or a webhook server when WEBHOOK_URL is set)."""
    settings = load_settings(log_format=BOT_LOG_FORMAT, **options)
    settings.require_bot()
    from newsqa.bot.tgbot.app import run
    from newsqa.index.runtime import limit_malloc_arenas

    limit_malloc_arenas()  # before the bot's threads: their arenas would otherwise fragment (runtime.py)

    run(settings)


main.add_command(eval_command, name="eval")
main.add_command(add)
main.add_command(feeds)
