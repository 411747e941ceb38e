"""Adding URLs and refreshing feeds through the service and the CLI: real model, real Chroma, and a
news site on 127.0.0.1 (tests/web_server.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main
from newsqa.index.errors import ReindexBusyError
from newsqa.index.store.locks import index_dir_lock
from tests.web_server import NewsSite, Page
from tests.webpages import FERRY, QUESTION, site_page

from .conftest import FEED_KEYS, PAGE_KEYS, SEED_CORPUS, WEB_JSON_KEYS

WEB = {"allow_private_urls": True, "fetch_delay_s": 0, "fetch_timeout_s": 2}


def ferry(site: NewsSite, fare: str = "4.20") -> Page:
    text = [FERRY[0].replace("4.20", fare), FERRY[1]]
    return Page(
        site_page(
            "Ferry fares to rise in April", text, url=site.url("/news/ferry.html"), published="2025-03-14"
        ).encode()
    )


def test_added_article_is_answered_with_its_url_and_a_correction_replaces_it(make_qa, corpus, news_site):
    news_site.pages["/news/ferry.html"] = ferry(news_site)
    qa = make_qa(corpus, **WEB)
    qa.reindex()
    url = news_site.url("/news/ferry.html")
    done = qa.add_urls([url])
    assert [p.status for p in done.pages] == ["added"] and done.reindex.added == 1
    answer = qa.ask(QUESTION)
    assert "4.20 pounds" in answer.answer
    [cited] = [c for c in answer.citations if c.url == url]
    assert (cited.title, cited.source_name, cited.published, cited.author) == (
        "Ferry fares to rise in April",
        "Harbour Herald",
        "2025-03-14",
        "Sam Okoro",
    )

    news_site.pages["/news/ferry.html"] = ferry(news_site, "4.60")
    again = qa.add_urls([url])
    assert [p.status for p in again.pages] == ["updated"] and again.reindex.updated == 1
    corrected = qa.ask(QUESTION)
    assert "4.60 pounds" in corrected.answer and "4.20" not in json.dumps(corrected.to_json())
    assert [s["source"] for s in qa.sources() if s["url"] == url] == [cited.source]


def test_failed_urls_lose_nothing_already_indexed(make_qa, corpus, news_site):
    news_site.pages["/news/ferry.html"] = ferry(news_site)
    qa = make_qa(corpus, **WEB)
    qa.add_urls([news_site.url("/news/ferry.html")])
    before = qa.sources()
    done = qa.add_urls([news_site.url(p) for p in ("/missing.html", "/error.html", "/report.pdf", "/loop/a")])
    assert len(done.failures) == 4 and done.reindex.changed is False
    assert qa.sources() == before
    news_site.pages["/news/ferry.html"].status = 500
    assert qa.add_urls([news_site.url("/news/ferry.html")]).failures
    assert "4.20 pounds" in qa.ask(QUESTION).answer


def test_refresh_waits_for_no_one_while_another_reindex_holds_the_lock(make_qa, corpus, news_site):
    qa = make_qa(corpus, **WEB)
    qa.follow_feed(news_site.url("/feeds/rss.xml"))
    requests = len(news_site.requests)
    with index_dir_lock(qa.settings), pytest.raises(ReindexBusyError):  # as another process would
        qa.refresh_feeds()
    assert len(news_site.requests) == requests and not list((corpus / "web").rglob("*.md"))


def test_scheduled_refresh_is_skipped_right_after_a_refresh_here_or_on_a_replica(make_qa, corpus, news_site):
    qa = make_qa(corpus, feed_refresh_minutes=60, **WEB)
    qa.follow_feed(news_site.url("/feeds/atom.xml"))
    done = qa.refresh_feeds(scheduled=True)
    assert [p.status for p in done.pages] == ["added", "added"] and done.reindex.added == 5 + 2  # first index
    requests = len(news_site.requests)
    replica = make_qa(corpus, index_dir=qa.settings.index_dir, feed_refresh_minutes=60, **WEB)
    assert replica.refresh_feeds(scheduled=True) is None
    assert len(news_site.requests) == requests


def cli(base: Path, *args: str) -> object:
    options = [
        "--corpus",
        str(base / "corpus"),
        "--index-dir",
        str(base / "index"),
        "--env-file",
        str(base / ".env"),
    ]
    return CliRunner().invoke(main, [*args, *options], catch_exceptions=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    (tmp_path / ".env").write_text("ALLOW_PRIVATE_URLS=true\nFETCH_DELAY_S=0\nFETCH_TIMEOUT_S=2\n")
    return tmp_path


def test_cli_add_prints_one_line_per_url_and_exits_1_on_a_failure(workdir, news_site):
    news_site.pages["/news/ferry.html"] = ferry(news_site)
    good, bad = news_site.url("/news/ferry.html"), news_site.url("/missing.html")
    result = cli(workdir, "add", good, bad)
    assert result.exit_code == 1
    assert f"added {good}: Ferry fares to rise in April, 2025-03-14, 64 words" in result.stdout
    assert f"error: failed {bad}: HTTP 404 Not Found\n" in result.stderr
    assert "indexed: 6 added" in result.stdout
    data = json.loads(cli(workdir, "add", good, "--json").stdout)
    assert set(data) == WEB_JSON_KEYS and [set(p) for p in data["pages"]] == [PAGE_KEYS]
    assert data["pages"][0]["status"] == "unchanged" and data["reindex"]["unchanged"] == 6


def test_cli_feeds_add_list_refresh_remove(workdir, news_site):
    atom, broken = news_site.url("/feeds/atom.xml"), news_site.url("/feeds/broken.xml")
    assert cli(workdir, "feeds", "list").stdout == "no feeds yet: newsqa feeds add URL\n"
    refused = cli(workdir, "feeds", "add", broken)
    assert refused.exit_code == 1 and refused.stderr.startswith(f"error: {broken}: broken feed XML (")
    assert cli(workdir, "feeds", "add", atom).stdout == f"following {atom}: Valley Times, 2 entries now\n"
    assert json.loads(cli(workdir, "feeds", "list", "--json").stdout)[0]["title"] == "Valley Times"
    refreshed = json.loads(cli(workdir, "feeds", "refresh", "--json").stdout)
    assert set(refreshed) == WEB_JSON_KEYS and [set(f) for f in refreshed["feeds"]] == [FEED_KEYS]
    assert [p["status"] for p in refreshed["pages"]] == ["added", "added"]
    assert cli(workdir, "feeds", "remove", atom).exit_code == 0
    missing = cli(workdir, "feeds", "remove", atom)
    assert (
        missing.exit_code == 1
        and missing.stderr == f"error: not following {atom} (see `newsqa feeds list`)\n"
    )
    sources = json.loads(cli(workdir, "sources", "--json").stdout)
    assert len([s for s in sources if s["source"].startswith("web/")]) == 2  # unfollowing keeps them


@pytest.mark.server
@pytest.mark.timeout(180)
def test_replicas_sharing_a_chroma_server_do_not_refresh_while_one_holds_the_lease(
    chroma_server, tmp_path, corpus, embedder, news_site
):
    from newsqa.index.config import Settings
    from newsqa.index.service import QA
    from newsqa.index.store.chroma import ChromaStore
    from newsqa.index.store.lease import ReindexLease

    settings = Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "unused",
        chroma_database="webreplicas",
        feed_refresh_minutes=60,
        **chroma_server.settings,
        **WEB,
    )
    replica = QA(settings, embedder=embedder)
    replica.follow_feed(news_site.url("/feeds/atom.xml"))
    requests = len(news_site.requests)
    held = ReindexLease.take(ChromaStore(settings))  # another replica is refreshing (or reindexing)
    with pytest.raises(ReindexBusyError, match="another process .* is reindexing"):
        replica.refresh_feeds(scheduled=True)
    assert len(news_site.requests) == requests
    held.release()
    done = replica.refresh_feeds(scheduled=True)
    assert [p.status for p in done.pages] == ["added", "added"]
    assert len([s for s in replica.sources() if s["source"].startswith("web/")]) == 2
    replica.close()
