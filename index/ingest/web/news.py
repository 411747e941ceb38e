"""`News`: add article URLs, follow feeds and refresh them, keeping each article as a corpus file.

Nothing here touches the index: the service (`QA.add_urls`, `QA.refresh_feeds`) calls this while it
holds the reindex lock or lease, then reindexes incrementally. A URL that fails is one result line
naming it and why; the files already in the corpus are never removed for a failure (only KEEP_DAYS
removes fetched articles, and only those under web/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone

from newsqa.index.config import Settings
from newsqa.index.errors import ExtractError, FeedError, FetchError, WebError
from newsqa.index.ingest.decode import Undecodable, decode
from newsqa.index.ingest.web.extract import extract
from newsqa.index.ingest.web.feeds import Entry, parse_feed
from newsqa.index.ingest.web.fetch import Fetched, Fetcher, Validators, check_url
from newsqa.index.ingest.web.pages import (
    article_path,
    canonical_url,
    expired,
    same_site,
    save,
    to_markdown,
    too_old,
)
from newsqa.index.ingest.web.results import FeedResult, PageResult, WebSummary
from newsqa.index.ingest.web.state import FeedList, FetchState, FollowedFeed, now_iso
from newsqa.index.types import Progress

HTML_TYPES = ("text/html", "application/xhtml+xml")
PAGE_ACCEPT = "text/html, application/xhtml+xml"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml, text/xml"
SNIFF_BYTES = 4096
MAX_ENTRIES = 100  # per feed and refresh, as the feed lists them (newest first, as feeds do)


class News:
    """Fetches articles and feeds into CORPUS_DIR/web/ under the fetcher's rules."""

    def __init__(self, settings: Settings, fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.corpus_dir = settings.corpus_dir
        self.fetcher = fetcher or Fetcher(settings)
        self.feed_list = FeedList(settings.corpus_dir, settings.feeds)

    def close(self) -> None:
        self.fetcher.close()

    # -- single articles ------------------------------------------------------------------------

    def add(
        self, urls: Iterable[str], progress: Callable[[Progress], None] | None = None
    ) -> list[PageResult]:
        """Fetch each URL into the corpus; a failure is a result, never an exception."""
        wanted = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
        state = FetchState(self.corpus_dir)
        results = []
        try:
            for i, url in enumerate(wanted):
                results.append(self._article(url, state))
                if progress is not None:
                    progress(Progress("fetching", i + 1, len(wanted)))
        finally:
            state.save()
        return results

    def _article(
        self, url: str, state: FetchState, *, feed: str | None = None, path: str | None = None
    ) -> PageResult:
        try:
            return self._fetch_article(url, state, feed=feed, path=path)
        except WebError as exc:
            return PageResult(url=url, status="failed", reason=exc.reason)

    def _fetch_article(
        self, url: str, state: FetchState, *, feed: str | None, path: str | None
    ) -> PageResult:
        check_url(url)
        key = canonical_url(url)
        known = state.pages.get(key) or {}
        path = path or known.get("path")
        on_disk = path is not None and (self.corpus_dir / path).is_file()
        validators = Validators(known.get("etag"), known.get("last_modified")) if on_disk else None
        fetched = self.fetcher.get(url, validators, accept=PAGE_ACCEPT)
        if fetched.not_modified:
            return PageResult(
                url=url,
                status="unchanged",
                source=path,
                canonical=known.get("canonical"),
                title=known.get("title"),
                published=known.get("published"),
                site=known.get("site"),
                words=int(known.get("words") or 0),
            )
        html = _page_text(fetched)
        article = extract(html, fetched.url)
        claimed = article.canonical
        own = (
            claimed
            if claimed and claimed.startswith(("http://", "https://")) and same_site(claimed, fetched.url)
            else fetched.url
        )
        canonical = canonical_url(own)
        relative = path or article_path(canonical)
        status = save(self.corpus_dir, relative, to_markdown(article, canonical))
        site = article.site or None
        state.pages[key] = {
            "path": relative,
            "canonical": canonical,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "fetched": now_iso(),
            "title": article.title,
            "published": article.published,
            "site": site,
            "words": article.words,
            "feed": feed,
        }
        return PageResult(
            url=url,
            status=status,
            source=relative,
            canonical=canonical,
            title=article.title,
            published=article.published,
            site=site,
            words=article.words,
        )

    # -- feeds ----------------------------------------------------------------------------------

    def feeds(self) -> list[FollowedFeed]:
        return self.feed_list.read()

    def follow(self, url: str) -> tuple[FollowedFeed, int]:
        """Add a feed after checking that it is one: (the feed, its entries now); WebError if not."""
        url = url.strip()
        feeds = self.feed_list.read()
        fetched = self.fetcher.get(url, accept=FEED_ACCEPT)
        parsed = parse_feed(fetched.body, url, fetched.content_type)
        known = next((f for f in feeds if f.url == url), None)
        followed = FollowedFeed(url, parsed.title, known.added if known else now_iso())
        self.feed_list.write([f for f in feeds if f.url != url] + [followed])
        return followed, len(parsed.entries)

    def unfollow(self, url: str) -> bool:
        """Stop following a feed (its articles stay in the corpus); False when it was not followed."""
        feeds = self.feed_list.read()
        kept = [f for f in feeds if f.url != url.strip()]
        if len(kept) == len(feeds):
            return False
        self.feed_list.write(kept)
        return True

    def due(self, minutes: float) -> bool:
        """Whether a scheduled refresh should run: none ran (here or on a replica sharing the corpus)
        in the last half interval."""
        last = FetchState(self.corpus_dir).refreshed
        if not last:
            return True
        try:
            when = datetime.fromisoformat(last.replace("Z", "+00:00"))
        except ValueError:
            return True
        return datetime.now(timezone.utc) - when >= timedelta(minutes=minutes / 2)

    def refresh(
        self, progress: Callable[[Progress], None] | None = None, today: date | None = None
    ) -> WebSummary:
        """Poll every feed, fetch new and changed entries (conditional GET), prune past KEEP_DAYS."""
        today = today or date.today()
        state = FetchState(self.corpus_dir)
        feeds: list[FeedResult] = []
        pages: list[PageResult] = []
        try:
            work: list[tuple[str, Entry]] = []
            for followed in self.feed_list.read():
                result, entries = self._poll(followed, state)
                feeds.append(result)
                work += [
                    (followed.url, e)
                    for e in entries[:MAX_ENTRIES]
                    if not too_old(e.published or e.updated, self.settings.keep_days, today)
                ]
            seen: set[str] = set()
            for i, (feed_url, entry) in enumerate(work):
                if entry.link and entry.link not in seen:
                    seen.add(entry.link)
                    paths = state.feeds[feed_url].setdefault("paths", {})
                    page = self._article(entry.link, state, feed=feed_url, path=paths.get(entry.id))
                    if page.source:
                        paths[entry.id] = page.source
                    pages.append(page)
                elif not entry.link:
                    pages.append(
                        PageResult(url=entry.id, status="failed", reason="the feed entry has no link")
                    )
                if progress is not None:
                    progress(Progress("fetching", i + 1, len(work)))
            pruned = self._prune(state, today)
            state.refreshed = now_iso()
        finally:
            state.save()
        return WebSummary(pages=pages, feeds=feeds, pruned=pruned)

    def _poll(self, followed: FollowedFeed, state: FetchState) -> tuple[FeedResult, list[Entry]]:
        """The feed's entries now: re-read, or the remembered ones when the server says not modified."""
        known = state.feeds.setdefault(followed.url, {})
        validators = (
            Validators(known.get("etag"), known.get("last_modified")) if known.get("entries") else None
        )
        try:
            fetched = self.fetcher.get(followed.url, validators, accept=FEED_ACCEPT)
            if fetched.not_modified:
                entries = [Entry(**e) for e in known.get("entries") or []]
                return FeedResult(
                    followed.url, known.get("title") or followed.title, len(entries), True
                ), entries
            parsed = parse_feed(fetched.body, followed.url, fetched.content_type)
        except (FetchError, FeedError) as exc:
            return FeedResult(followed.url, followed.title, reason=exc.reason), []
        known.update(
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            title=parsed.title,
            entries=[asdict(e) for e in parsed.entries],
            checked=now_iso(),
        )
        result = FeedResult(
            followed.url, parsed.title or followed.title, len(parsed.entries), reason=parsed.problem
        )
        return result, list(parsed.entries)

    def _prune(self, state: FetchState, today: date) -> list[str]:
        """Delete the fetched articles past KEEP_DAYS (the next reindex drops them from the index)."""
        pruned = expired(self.corpus_dir, self.settings.keep_days, today)
        for relative in pruned:
            (self.corpus_dir / relative).unlink(missing_ok=True)
        gone = set(pruned)
        state.pages = {k: v for k, v in state.pages.items() if v.get("path") not in gone}
        return pruned


def _page_text(fetched: Fetched) -> str:
    """A fetched page as text; ExtractError when it is not an HTML page or not text at all."""
    head = fetched.body[:SNIFF_BYTES].lower()
    looks_html = b"<html" in head or b"<!doctype html" in head or b"<body" in head
    if fetched.content_type not in HTML_TYPES and not (
        fetched.content_type in ("text/plain", "application/octet-stream") and looks_html
    ):
        raise ExtractError(fetched.url, f"not an HTML page ({fetched.content_type})")
    try:
        return decode(fetched.body, fetched.charset)[0]
    except Undecodable as exc:
        raise ExtractError(fetched.url, f"cannot read the page as text ({exc})") from None
