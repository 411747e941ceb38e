"""What every CLI command shares: settings options, error edges, the service."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from newsqa.bot.output import print_summary, progress_printer
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError, NewsqaError, QuestionError

CLI_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
BOT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # a service's log needs times


def settings_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares; each overrides its environment variable."""
    options = [
        click.option(
            "--corpus",
            "corpus_dir",
            type=click.Path(path_type=Path),
            help="Corpus folder [env CORPUS_DIR; default corpus/].",
        ),
        click.option(
            "--index-dir",
            type=click.Path(path_type=Path),
            help="Index folder [env INDEX_DIR; default .newsqa/].",
        ),
        click.option(
            "--chroma-host", help="Use a Chroma server instead of the embedded store [env CHROMA_HOST]."
        ),
        click.option("--chroma-port", type=int, help="Chroma server port [env CHROMA_PORT; default 8000]."),
        click.option(
            "--env-file",
            type=click.Path(path_type=Path),
            default=Path(".env"),
            show_default=True,
            help="Read settings from this file too.",
        ),
        click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def load_settings(
    corpus_dir: Path | None,
    index_dir: Path | None,
    chroma_host: str | None,
    chroma_port: int | None,
    env_file: Path,
    verbose: bool,
    log_format: str = CLI_LOG_FORMAT,
    **extra: Any,
) -> Settings:
    settings = Settings.load(
        env_file=env_file,
        corpus_dir=corpus_dir,
        index_dir=index_dir,
        chroma_host=chroma_host,
        chroma_port=chroma_port,
        **extra,
    )
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    setup_logging(level, log_format)
    return settings


def setup_logging(level: int, log_format: str = CLI_LOG_FORMAT) -> None:
    """The one place logging is set up: the first call of a process picks the level and the format
    (a later one, or one under a host that set up logging itself, keeps them); chatty libraries
    (httpx and httpcore log URLs that hold the bot token) log from WARNING."""
    logging.basicConfig(level=level, format=log_format, stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "chromadb", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def edge(fn: Callable[..., Any]) -> Callable[..., Any]:
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


def service(settings: Settings) -> Any:
    from newsqa.index.service import QA

    return QA(settings)


def ensure_index(qa: Any) -> None:
    if not qa.has_index():
        click.echo(f"no index yet: building it from {qa.settings.corpus_dir}/ first…", err=True)
        summary = qa.reindex(progress=progress_printer())
        print_summary(summary, err=True)


def stdin_lines(prompt: str = "") -> Iterator[str]:
    """Lines of stdin as text, whatever its bytes: a byte that is not UTF-8 becomes U+FFFD in its
    line alone (Python's own decoding would crash the loop, or hand on lone surrogates);
    `prompt` is written to stdout before each line."""
    binary = sys.stdin.buffer
    while True:
        if prompt:
            click.echo(prompt, nl=False)
        line = binary.readline()
        if not line:
            return
        yield line.decode("utf-8", "replace").rstrip("\r\n")
