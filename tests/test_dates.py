"""Article dates: read from every place a news file states them, as ISO days; no date is not an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa.index.ingest.dates import dateline, url_date
from newsqa.index.ingest.reader import read_article, read_corpus
from newsqa.index.text.dates import human_date, to_date

pytestmark = pytest.mark.fast

DATED = Path(__file__).parent / "data" / "dated"
BODY = "The council approved a new budget for the harbour on Tuesday after a long debate.\n"


def page(head: str) -> str:
    return f"<html><head><title>Budget</title>{head}</head><body><p>{BODY}</p></body></html>"


def article(tmp_path: Path, name: str, text: str, sidecar: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if sidecar is not None:
        (tmp_path / f"{name}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return read_article(path, tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "day"),
    [
        ("date", "2024-07-22T10:00Z", "2024-07-22"),
        ("published", "March 7, 2024", "2024-03-07"),
        ("date", "12 Mar 2025", "2025-03-12"),
        ("pubdate", "2025-11-18 16:45:00+01:00", "2025-11-18"),
    ],
)
def test_front_matter_date_is_read_to_an_iso_day(tmp_path: Path, key: str, value: str, day: str) -> None:
    got = article(tmp_path, "a.md", f"---\ntitle: Budget\n{key}: {value}\n---\n\n{BODY}")
    assert (got.published, got.updated) == (day, None)


def test_front_matter_updated_is_kept_when_later_than_published(tmp_path: Path) -> None:
    got = article(tmp_path, "a.md", f"---\ndate: 2025-11-29\nupdated: 30 Nov 2025\n---\n# Budget\n\n{BODY}")
    assert (got.published, got.updated) == ("2025-11-29", "2025-11-30")


def test_sidecar_date_wins_over_the_file(tmp_path: Path) -> None:
    got = article(
        tmp_path, "a.md", f"---\ndate: 2020-01-01\n---\n# Budget\n\n{BODY}", {"published": "12 November 2024"}
    )
    assert got.published == "2024-11-12"


def test_html_meta_dates_published_and_modified(tmp_path: Path) -> None:
    head = (
        '<meta property="article:published_time" content="2025-04-02T06:00:00Z">'
        '<meta property="article:modified_time" content="2025-04-05T12:00:00Z">'
    )
    got = article(tmp_path, "a.html", page(head))
    assert (got.published, got.updated) == ("2025-04-02", "2025-04-05")


def test_html_json_ld_date_is_found_by_htmldate(tmp_path: Path) -> None:
    ld = '{"@type": "NewsArticle", "datePublished": "2025-11-04T10:00:00Z"}'
    got = article(tmp_path, "a.html", page(f'<script type="application/ld+json">{ld}</script>'))
    assert got.published == "2025-11-04"


def test_date_in_the_url_path(tmp_path: Path) -> None:
    head = '<link rel="canonical" href="https://news.example/2025/08/14/council-parking.html">'
    got = article(tmp_path, "a.html", page(head))
    assert got.published == "2025-08-14"
    md = article(
        tmp_path, "b.md", f"---\nurl: https://news.example/news/2025-06-30-theatre\n---\n# Theatre\n\n{BODY}"
    )
    assert md.published == "2025-06-30"


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("https://a.example/2025/03/12/story", "2025-03-12"),
        ("https://a.example/world/20240105/story.html", "2024-01-05"),
        ("https://a.example/story-2025", None),
        ("https://a.example/2025/13/40/story", None),
        (None, None),
    ],
)
def test_url_date(url: str | None, day: str | None) -> None:
    assert url_date(url) == day


def test_plain_text_dateline_is_read_and_date_lines_leave_the_body(tmp_path: Path) -> None:
    got = article(
        tmp_path, "a.txt", f"Bridge closed\n\nPublished 12 March 2025\nUpdated 14 March 2025\n\n{BODY}"
    )
    assert (got.published, got.updated) == ("2025-03-12", "2025-03-14")
    assert "2025" not in got.text and got.text.startswith("The council")


def test_agency_dateline_dates_the_lede_and_stays_in_it() -> None:
    found, body = dateline("LONDON, 3 Feb 2025 (Meridian Wire) - The government approved a rail link.\n")
    assert found.published == "2025-02-03"
    assert body.startswith("LONDON, 3 Feb 2025")


def test_a_date_deep_in_the_text_is_not_a_dateline() -> None:
    text = "One.\n\nTwo.\n\nThree.\n\nFour.\n\n12 March 2025\n"
    assert dateline(text)[0].published is None


def test_undated_article_is_no_error(tmp_path: Path) -> None:
    got = article(tmp_path, "a.txt", f"Lighthouse\n\nThe lighthouse was first lit in 1871. {BODY}")
    assert (got.published, got.updated) == (None, None)


def test_unparseable_front_matter_date_is_ignored(tmp_path: Path) -> None:
    got = article(tmp_path, "a.md", f"---\ndate: sometime soon-ish maybe\n---\n# Budget\n\n{BODY}")
    assert got.published is None


def test_dated_corpus_dates_every_article_but_the_undated_ones() -> None:
    articles, warnings = read_corpus(DATED)
    assert warnings == [] and len(articles) >= 30
    undated = sorted(a.source for a in articles if a.published is None)
    assert undated == ["festival.md", "lighthouse.txt", "market.txt", "steel-suppliers.txt"]
    assert all(to_date(a.published) is not None for a in articles if a.published)


def test_human_date_for_citations() -> None:
    assert human_date("2025-03-12") == "12 Mar 2025"
    assert human_date(None) is None and human_date("soon") is None


def test_author_comes_from_front_matter_meta_or_byline_and_never_stays_in_the_text(tmp_path: Path) -> None:
    md = article(tmp_path, "a.md", f"---\nauthor: Sam Okoro\n---\n# Budget\n\n{BODY}")
    page_author = article(tmp_path, "b.html", page('<meta name="author" content="Priya Nair">'))
    profile = article(
        tmp_path, "c.html", page('<meta property="article:author" content="https://x.example/p">')
    )
    text = article(tmp_path, "d.txt", f"Budget\n\nBy Helen Marsh and Tom Briggs\n\n{BODY}")
    assert (md.author, page_author.author, profile.author) == ("Sam Okoro", "Priya Nair", None)
    assert text.author == "Helen Marsh and Tom Briggs" and "Helen" not in text.text
