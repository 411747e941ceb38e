"""The fetcher, extraction and feeds against a real HTTP server on 127.0.0.1 (no model, no index)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from newsqa.index.config import Settings
from newsqa.index.ingest.parse import front_matter
from newsqa.index.ingest.web.extract import extract
from newsqa.index.ingest.web.fetch import Fetcher, is_public
from newsqa.index.ingest.web.news import News
from newsqa.index.ingest.web.pages import article_path, canonical_url
from tests.web_server import NewsSite, Page
from tests.webpages import CHROME, seed_articles, site_page

from .conftest import SEED_CORPUS

pytestmark = pytest.mark.fast


@pytest.fixture
def news() -> Iterator[Callable[..., News]]:
    """Make a `News` over tmp_path/corpus (private addresses allowed: the site is on 127.0.0.1)."""
    made: list[News] = []

    def make(tmp_path: Path, **overrides: object) -> News:
        values: dict[str, object] = {"allow_private_urls": True, "fetch_delay_s": 0, "fetch_timeout_s": 2}
        settings = Settings(
            corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", **{**values, **overrides}
        )
        settings.corpus_dir.mkdir(exist_ok=True)
        made.append(News(settings))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_seed_articles_in_site_chrome_extract_whole_and_without_chrome():
    for title, paragraphs in seed_articles(SEED_CORPUS):
        page = site_page(title, paragraphs, url="https://herald.example/a")
        found = extract(page, "https://herald.example/a")
        text = " ".join(found.text.split())
        assert [p for p in paragraphs if p not in text] == []
        assert [c for c in CHROME if c in found.text] == []
        assert (found.title, found.author, found.site, found.published) == (
            title,
            "Sam Okoro",
            "Harbour Herald",
            "2025-03-12",
        )


def test_added_article_is_markdown_with_front_matter_the_reader_reads_back(
    news, tmp_path, news_site: NewsSite
):
    [page] = news(tmp_path).add([news_site.url("/news/troops-talks.html?utm_source=feed#top")])
    assert page.status == "added", page.line()
    assert page.canonical == news_site.url("/news/troops-talks.html")
    assert page.source == article_path(page.canonical) and page.source.startswith("web/127.0.0.1-")
    text = (tmp_path / "corpus" / page.source).read_text(encoding="utf-8")
    fields, body = front_matter(text)
    assert fields == {
        "title": news_site.articles[0][0],
        "url": page.canonical,
        "source": "Harbour Herald",
        "author": "Sam Okoro",
        "date": "2025-03-10",
    }
    assert "phased withdrawal" in body and not [c for c in CHROME if c in body]


def test_every_bad_url_gets_one_line_naming_it_and_why(news, tmp_path, news_site: NewsSite):
    reasons = {
        "/slow.html": "timed out after 2 s",
        "/huge.html": "over the 5 MB limit (FETCH_MAX_BYTES)",
        "/huge-declared.html": "50 MB is over the 5 MB limit",
        "/loop/a": "more than 5 redirects (FETCH_MAX_REDIRECTS)",
        "/missing.html": "HTTP 404",
        "/error.html": "HTTP 500",
        "/report.pdf": "not an HTML page (application/pdf)",
        "/binary": "not an HTML page (application/octet-stream)",
    }
    found = news(tmp_path).add(
        [news_site.url(p) for p in reasons] + ["ftp://example.com/x", "file:///etc/passwd"]
    )
    lines = [p.line() for p in found]
    assert len(lines) == len(reasons) + 2 and all("\n" not in line for line in lines)
    for line, (path, reason) in zip(lines, reasons.items(), strict=False):
        assert line.startswith(f"failed {news_site.url(path)}: ") and reason in line, line
    assert lines[-2] == "failed ftp://example.com/x: only http and https URLs can be fetched, not ftp"
    assert lines[-1].startswith("failed file:///etc/passwd: only http and https")
    assert not list((tmp_path / "corpus").rglob("*.md"))


def test_a_failure_keeps_the_article_already_fetched(news, tmp_path, news_site: NewsSite):
    fetcher = news(tmp_path)
    [first] = fetcher.add([news_site.url("/news/drawdown.html")])
    before = (tmp_path / "corpus" / str(first.source)).read_text(encoding="utf-8")
    news_site.pages["/news/drawdown.html"].status = 500
    [again] = fetcher.add([news_site.url("/news/drawdown.html")])
    assert again.status == "failed" and again.reason == "HTTP 500 Internal Server Error"
    assert (tmp_path / "corpus" / str(first.source)).read_text(encoding="utf-8") == before


def test_latin1_page_is_read_with_the_charset_of_its_http_header(news, tmp_path, news_site: NewsSite):
    [page] = news(tmp_path).add([news_site.url("/latin1.html")])
    text = (tmp_path / "corpus" / str(page.source)).read_text(encoding="utf-8")
    assert page.title == "Café owners in Zürich say façades matter"
    assert "Renée Müller" in text and "Zürich’s old town" in text


def test_refetch_is_a_conditional_get_and_unchanged_when_the_server_says_304(
    news, tmp_path, news_site: NewsSite
):
    fetcher = news(tmp_path)
    url = news_site.url("/news/invasion.html")
    assert [p.status for p in fetcher.add([url])] == ["added"]
    assert [p.status for p in fetcher.add([url])] == ["unchanged"]
    first, second = news_site.hits("/news/invasion.html")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"].startswith('"') and "if-modified-since" in second.headers
    assert first.headers["user-agent"].startswith("newsqa/")


def test_correction_rewrites_the_same_file(news, tmp_path, news_site: NewsSite):
    fetcher = news(tmp_path)
    url = news_site.url("/news/drawdown.html")
    [first] = fetcher.add([url])
    title, paragraphs = news_site.articles[2]
    corrected = [paragraphs[0].replace("Iraq", "Iraq (corrected)", 1), *paragraphs[1:]]
    news_site.pages["/news/drawdown.html"].body = site_page(title, corrected, url=url).encode()
    [second] = fetcher.add([url])
    assert (second.status, second.source) == ("updated", first.source)
    assert "Iraq (corrected)" in (tmp_path / "corpus" / str(first.source)).read_text(encoding="utf-8")
    assert len(list((tmp_path / "corpus").rglob("*.md"))) == 1


def test_page_naming_another_site_as_canonical_cannot_overwrite_its_article(
    news, tmp_path, news_site: NewsSite
):
    title, paragraphs = news_site.articles[1]
    news_site.pages["/hijack.html"] = Page(
        site_page(title, paragraphs, url="https://victim.example/a").encode()
    )
    [page] = news(tmp_path).add([news_site.url("/hijack.html")])
    assert page.canonical == news_site.url("/hijack.html")


def test_private_addresses_are_refused_unless_allowed(news, tmp_path, news_site: NewsSite):
    [page] = news(tmp_path, allow_private_urls=False).add([news_site.url("/news/drawdown.html")])
    assert page.status == "failed"
    assert (
        "resolves to a private or local address (127.0.0.1); refused unless ALLOW_PRIVATE_URLS" in page.line()
    )
    [named] = news(tmp_path, allow_private_urls=False).add(["http://localhost:9/x"])
    assert "private or local address" in str(named.reason)
    assert news_site.requests == []
    for address, public in [
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("0.0.0.0", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ]:
        assert is_public(address) is public, address


def test_every_redirect_hop_is_checked_against_private_addresses(news, tmp_path, news_site, monkeypatch):
    port = news_site.url("/").split(":")[2].rstrip("/")
    target = f"http://127.0.0.2:{port}/news/drawdown.html"
    news_site.pages["/to-private"] = Page(status=302, headers={"Location": target}, validators=False)
    monkeypatch.setattr("newsqa.index.ingest.web.fetch.is_public", lambda address: address == "127.0.0.1")
    [page] = news(tmp_path, allow_private_urls=False).add([news_site.url("/to-private")])
    assert page.reason == (
        "127.0.0.2 resolves to a private or local address (127.0.0.2); refused unless "
        "ALLOW_PRIVATE_URLS is set"
    )
    assert [r.path for r in news_site.requests] == ["/to-private"]


def test_one_request_per_host_at_a_time_with_the_delay_between(tmp_path, news_site: NewsSite):
    fetcher = Fetcher(Settings(allow_private_urls=True, fetch_delay_s=0.3))
    import threading
    import time

    started = time.monotonic()
    threads = [
        threading.Thread(target=fetcher.get, args=(news_site.url("/news/drawdown.html"),)) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 0.6  # three requests, two delays of 0.3 s
    fetcher.close()


def test_feeds_rss_and_atom_are_refreshed_and_a_broken_feed_is_one_line(news, tmp_path, news_site: NewsSite):
    fetcher = news(tmp_path)
    assert fetcher.follow(news_site.url("/feeds/rss.xml"))[1] == 2
    assert fetcher.follow(news_site.url("/feeds/atom.xml"))[0].title == "Valley Times"
    with pytest.raises(Exception, match="broken feed XML"):
        fetcher.follow(news_site.url("/feeds/broken.xml"))
    fetcher.feed_list.write([*fetcher.feeds(), type(fetcher.feeds()[0])(news_site.url("/feeds/broken.xml"))])
    done = fetcher.refresh()
    assert [p.status for p in done.pages] == ["added"] * 4
    assert done.failures == [
        f"failed feed {news_site.url('/feeds/broken.xml')}: broken feed XML "
        "(<unknown>:1:110: no element found)"
    ]
    again = fetcher.refresh()
    assert [p.status for p in again.pages] == ["unchanged"] * 4
    assert [f.not_modified for f in again.feeds[:2]] == [True, True]


def test_entry_dropping_out_of_the_feed_stays_and_keep_days_prunes_only_fetched_articles(
    news, tmp_path, news_site: NewsSite
):
    fetcher = news(tmp_path, keep_days=30)
    (tmp_path / "corpus" / "own.txt").write_text("An old article of my own\n\nIt stays whatever its age.\n")
    fetcher.follow(news_site.url("/feeds/rss.xml"))
    fetcher.refresh(today=date(2025, 3, 20))
    news_site.pages["/feeds/rss.xml"].body = lambda: news_site.rss(["/news/withdrawal-countdown.html"])
    done = fetcher.refresh(today=date(2025, 3, 20))
    assert done.pruned == [] and len(list((tmp_path / "corpus" / "web").rglob("*.md"))) == 2
    pruned = fetcher.refresh(today=date(2025, 4, 10)).pruned  # troops-talks (10 Mar) is past 30 days
    assert pruned == [article_path(canonical_url(news_site.url("/news/troops-talks.html")))]
    assert (tmp_path / "corpus" / "own.txt").exists()


def test_feeds_setting_seeds_the_list_until_it_is_written(news, tmp_path):
    fetcher = news(tmp_path, feeds=("https://a.example/rss", "https://b.example/atom"))
    assert [f.url for f in fetcher.feeds()] == ["https://a.example/rss", "https://b.example/atom"]
    assert fetcher.unfollow("https://a.example/rss") and not fetcher.unfollow("https://a.example/rss")
    assert [f.url for f in fetcher.feeds()] == ["https://b.example/atom"]


def test_feed_settings_are_read_from_the_environment_and_bad_ones_named(monkeypatch):
    from newsqa.index.errors import ConfigError

    monkeypatch.setenv("FEEDS", "https://a.example/rss, https://b.example/atom")
    monkeypatch.setenv("KEEP_DAYS", "30")
    loaded = Settings.load(env_file=None)
    assert loaded.feeds == ("https://a.example/rss", "https://b.example/atom") and loaded.keep_days == 30
    monkeypatch.setenv("FEEDS", "ftp://a.example/rss")
    monkeypatch.setenv("FETCH_MAX_REDIRECTS", "50")
    with pytest.raises(ConfigError) as caught:
        Settings.load(env_file=None)
    assert "FEEDS: expected http(s) URLs separated by commas, got 'ftp://a.example/rss'" in str(caught.value)
    assert "FETCH_MAX_REDIRECTS must be between 0 and 20, got 50" in str(caught.value)
