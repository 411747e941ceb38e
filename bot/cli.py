"""The `newsqa` command line: index, ask, chat, eval, sources, serve."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.output import print_answer, print_summary, progress_printer
from index.config import Settings
from index.errors import ConfigError, NewsqaError, QuestionError

log = logging.getLogger("newsqa")


def _settings_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares; each overrides its environment variable."""
    options = [
        click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), help="Corpus folder [env CORPUS_DIR; default corpus/]."),
        click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder [env INDEX_DIR; default .newsqa/]."),
        click.option("--chroma-host", help="Use a Chroma server instead of the embedded store [env CHROMA_HOST]."),
        click.option("--chroma-port", type=int, help="Chroma server port [env CHROMA_PORT; default 8000]."),
        click.option("--env-file", type=click.Path(path_type=Path), default=Path(".env"), show_default=True, help="Read settings from this file too."),
        click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _load(corpus_dir: Path | None, index_dir: Path | None, chroma_host: str | None,
          chroma_port: int | None, env_file: Path, verbose: bool, **extra: Any) -> Settings:
    settings = Settings.load(
        env_file=env_file, corpus_dir=corpus_dir, index_dir=index_dir,
        chroma_host=chroma_host, chroma_port=chroma_port, **extra,
    )
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "chromadb", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return settings


def _edge(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one line on stderr and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (QuestionError, ConfigError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except NewsqaError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def _service(settings: Settings) -> Any:
    from index.service import QA

    return QA(settings)


def _ensure_index(qa: Any) -> None:
    if not qa.has_index():
        click.echo(f"no index yet: building it from {qa.settings.corpus_dir}/ first…", err=True)
        summary = qa.reindex(progress=progress_printer())
        print_summary(summary, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsqa")
def main() -> None:
    """newsqa: answers questions about a collection of news articles, quoting and citing them.

    Put articles (.txt, .md, .html) in corpus/, run `newsqa index`, then `newsqa ask "…"`.
    Settings come from flags, the environment and .env (see .env.example).
    """


@main.command()
@_settings_options
@click.option("--rebuild", is_flag=True, help="Re-embed every article instead of only new and changed ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_edge
def index(rebuild: bool, as_json: bool, **options: Any) -> None:
    """Index the corpus: only new and changed articles are embedded; deleted ones disappear."""
    qa = _service(_load(**options))
    summary = qa.reindex(rebuild=rebuild, progress=None if as_json else progress_printer())
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        print_summary(summary)


@main.command()
@_settings_options
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@click.option("-k", "--top-k", type=click.IntRange(1, 20), help="Most citations to return [env TOP_K; default 3].")
@_edge
def ask(question: str, as_json: bool, top_k: int | None, **options: Any) -> None:
    """Answer QUESTION from the corpus, with citations. QUESTION '-' reads one question per line from stdin."""
    settings = _load(**options)
    qa = _service(settings)
    _ensure_index(qa)
    questions = (line for line in sys.stdin) if question == "-" else iter([question])
    failed = False
    for text in questions:
        if question == "-" and not text.strip():
            continue
        try:
            answer = qa.ask(text, k=top_k)
        except QuestionError as exc:
            if question != "-":
                raise
            failed = True
            click.echo(json.dumps({"question": text.strip()[:200], "error": str(exc)}) if as_json else f"error: {exc}")
            continue
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            print_answer(answer)
    if failed:
        sys.exit(2)


@main.command()
@_settings_options
@_edge
def chat(**options: Any) -> None:
    """Ask questions interactively; follow-ups ("and in Syria?") use the previous question."""
    qa = _service(_load(**options))
    _ensure_index(qa)
    click.echo("Ask about the news in the corpus. Empty line or Ctrl-D to quit.", err=True)
    while True:
        try:
            text = input("? ")
        except EOFError:
            break
        if not text.strip():
            break
        try:
            print_answer(qa.ask(text, chat_id="cli"))
        except QuestionError as exc:
            click.echo(f"error: {exc}", err=True)


@main.command()
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_edge
def sources(as_json: bool, **options: Any) -> None:
    """List the indexed articles."""
    qa = _service(_load(**options))
    items = qa.sources()
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        click.echo(f"{item['source']}\t{item['chunks']} chunks\t{item['title']}")


@main.command()
@_settings_options
@_edge
def serve(**options: Any) -> None:
    """Run the Telegram bot (long polling, or a webhook server when WEBHOOK_URL is set)."""
    settings = _load(**options)
    settings.require_bot()
    from bot.tgbot.app import run

    run(settings)


from bot.evalcmd import eval_command  # noqa: E402  (registers `newsqa eval`)

main.add_command(eval_command, name="eval")
