"""`newsqa add` and `newsqa feeds …`: fetch articles and follow feeds into the corpus, then reindex."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from newsqa.bot.common import edge, load_settings, service, settings_options
from newsqa.bot.output import print_summary, progress_printer


def _report(done: Any, as_json: bool) -> None:
    """Each feed and page on one line (failures on stderr), the reindex summary; exit 1 on a failure."""
    if as_json:
        click.echo(json.dumps(done.to_json(), ensure_ascii=False))
    else:
        for item in [*done.feeds, *done.pages]:
            click.echo(f"error: {item.line()}" if not item.ok else item.line(), err=not item.ok)
        for path in done.pruned:
            click.echo(f"pruned {path} (older than KEEP_DAYS)")
        if done.reindex is not None:
            print_summary(done.reindex)
    if done.failures:
        sys.exit(1)


@click.command()
@settings_options
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--json", "as_json", is_flag=True, help="Print what was added, and the reindex, as JSON.")
@edge
def add(urls: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Fetch article pages, keep each as CORPUS_DIR/web/<site>/….md and index them.

    Fetching a URL again updates its article (a correction). A URL that cannot be fetched or holds no
    article prints one error line naming it and why (exit code 1); the other URLs are still added."""
    qa = service(load_settings(**options))
    _report(qa.add_urls(list(urls), progress=None if as_json else progress_printer()), as_json)


@click.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: add, list, remove, refresh (the list is CORPUS_DIR/web/feeds.json;
    FEEDS in .env seeds it). `newsqa serve` refreshes every FEED_REFRESH_MINUTES."""


@feeds.command("list")
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@edge
def list_feeds(as_json: bool, **options: Any) -> None:
    """List the followed feeds."""
    found = service(load_settings(**options)).feeds()
    if as_json:
        click.echo(json.dumps([f.to_json() for f in found], ensure_ascii=False))
        return
    if not found:
        click.echo("no feeds yet: newsqa feeds add URL")
    for feed in found:
        click.echo(f"{feed.url}\t{feed.title or '-'}")


@feeds.command("add")
@settings_options
@click.argument("url")
@edge
def add_feed(url: str, **options: Any) -> None:
    """Follow the feed at URL (read once to check it is RSS or Atom); `feeds refresh` gets its entries."""
    followed, entries = service(load_settings(**options)).follow_feed(url)
    click.echo(f"following {followed.url}: {followed.title or '(no title)'}, {entries} entries now")


@feeds.command("remove")
@settings_options
@click.argument("url")
@edge
def remove_feed(url: str, **options: Any) -> None:
    """Stop following the feed at URL; its articles stay in the corpus."""
    if not service(load_settings(**options)).unfollow_feed(url):
        click.echo(f"error: not following {url} (see `newsqa feeds list`)", err=True)
        sys.exit(1)
    click.echo(f"stopped following {url}; its articles stay in the corpus")


@feeds.command("refresh")
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print what the refresh did as JSON.")
@edge
def refresh(as_json: bool, **options: Any) -> None:
    """Poll every feed, fetch new and changed entries, delete articles older than KEEP_DAYS, reindex."""
    qa = service(load_settings(**options))
    _report(qa.refresh_feeds(progress=None if as_json else progress_printer()), as_json)
