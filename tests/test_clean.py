"""Boilerplate removal must drop site furniture and never a news sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsqa.index.ingest.clean import clean_html, clean_text

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

LEDE = "Iraq and the United States began talks on Monday about the future of the 2,500 US troops."
MIDDLE = "Officials said no timetable had been agreed, and both sides warned against a hasty exit."
LAST = "The next round of talks is expected in Washington before the end of the month."


def article(*inserts: str, at_end: bool = False) -> str:
    """A realistic three-paragraph article with `inserts` between (or after) the paragraphs."""
    middle = "\n\n".join(inserts)
    if at_end:
        return f"{LEDE}\n\n{MIDDLE}\n\n{LAST}\n\n{middle}\n"
    return f"{LEDE}\n\n{middle}\n\n{MIDDLE}\n\n{LAST}\n"


def assert_news_kept(cleaned: str) -> None:
    for sentence in (LEDE, MIDDLE, LAST):
        assert sentence in cleaned


BOILERPLATE = [
    "No time to read?",
    "Get a summary",
    "Advertisement",
    "ADVERTISEMENT",
    "Story continues below advertisement",
    "Share this article",
    "Share on Facebook",
    "Subscribe to our newsletter for the latest headlines",
    "Sign up for our free daily newsletter",
    "Read more",
    "Read more: Iraq's parliament votes on foreign troops",
    "READ MORE »",
    "Continue reading...",
    "Related: Pentagon confirms drawdown plans",
    "Related Articles: Five things to know about the talks",
    "Follow us on Twitter @newsdesk",
    "More From Me",
    "Photo: Soldiers at a checkpoint near Baghdad.",
    "Image credit: Reuters",
    "Image caption: Troops board a transport plane",
    "Soldiers stand guard in Baghdad on Monday. (AP Photo/Khalid Mohammed)",
    "US troops at Ain al-Asad air base. Photograph: John Moore/Getty Images",
    "A convoy leaves the base (AFP via Getty Images)",
    "Getty Images",
    "FILE PHOTO: A US soldier stands guard in Mosul.",
    "US soldiers patrol a street in Mosul (File photo)",
    "MAXMUR CITY, IRAQ - JANUARY 26: Soldiers stand guard on January 26, 2007 in Maxmur, Iraq.",
    "By Jane Smith",
    "By Jane Smith, Middle East correspondent",
    "In the meantime, what do YOU think? Send us a message and let us know what you think.",
    "© 2024 Example News. All rights reserved.",
]


@pytest.mark.parametrize("line", BOILERPLATE)
def test_clean_text_drops_boilerplate_line_and_keeps_the_news(line: str) -> None:
    cleaned = clean_text(article(line))
    assert line not in cleaned
    assert_news_kept(cleaned)


KEPT = [
    "Diplomats said the previous article of the treaty already covered troop movements.",
    "Previous reporting indicated ongoing discussions between the two governments.",
    "Next month's budget will be the minister's eighth since taking office.",
    "Next is one of the biggest competitors and the move may force it to lower prices.",
    "Shares in the defence contractor rose 3% on the news.",
    "Subscribers to the broadband service will be able to make calls.",
    "By early 2005 the base could hold two new squadrons.",
    "Photographs of the convoy emerged on social media on Monday.",
    "Getty Images, the photo agency, said its staff had left Baghdad.",
    "Related talks with Syria are expected later this year.",
    "Read the small print, the regulator warned investors.",
    "Advertising revenue at the state broadcaster fell by a fifth.",
    "Iraq Initiates Talks",
    "What Happened:",
    '"Let us know what you think," the minister told reporters.',
    "Matthew Dellinger, a spokesman for the embassy, declined to comment.",
]


@pytest.mark.parametrize("sentence", KEPT)
def test_clean_text_keeps_news_sentence_that_resembles_boilerplate(sentence: str) -> None:
    assert sentence in clean_text(article(sentence))


def test_clean_text_drops_previous_and_next_article_headlines() -> None:
    tail = (
        "No time to read?\nGet a summary\nPrevious Article\n\n"
        "Strategies for Reducing Stomach Cancer Risk Through Diet and Lifestyle\n\n"
        "Next Article\n\nBan on Keeping Wild and Exotic Animals Sparks Legislative Debate"
    )
    cleaned = clean_text(article(tail, at_end=True))
    assert cleaned.endswith(LAST)
    assert "Stomach Cancer" not in cleaned and "Exotic Animals" not in cleaned


def test_clean_text_drops_around_the_web_section_and_dangling_embed_lead_ins() -> None:
    tail = (
        "More from Around the Web:\n\n"
        "The Iraqi Prime Minister has been calling for the US to withdraw troops for some time:\n\n"
        "They even went so far as to refuse additional entry of US troops earlier this year:"
    )
    assert clean_text(article(tail, at_end=True)).endswith(LAST)


def test_clean_text_keeps_a_colon_lead_in_followed_by_news() -> None:
    text = f"{LEDE}\n\nThe proposals include:\n\n{LAST}"
    assert "The proposals include:" in clean_text(text)


def test_clean_text_drops_repeated_byline_and_author_bio() -> None:
    byline = (
        "Matthew Dellinger\nMatthew Dellinger\n"
        "Matthew Dellinger holds a Political Science and History BS and is working towards a Masters "
        "in Public Administration. Before his time at Atlas he joined GoodPolitical as a writer."
    )
    cleaned = clean_text(article(byline))
    assert "Dellinger" not in cleaned
    assert_news_kept(cleaned)


@pytest.mark.parametrize(
    "bio",
    [
        "About the author\n\nJane Smith has covered the Middle East for a decade from Beirut.",
        "Jane Smith is a reporter covering defence and security for Example News.",
        "Jane Smith is the Middle East editor of Example News.",
    ],
)
def test_clean_text_drops_trailing_author_bio(bio: str) -> None:
    cleaned = clean_text(article(bio, at_end=True))
    assert "Jane Smith" not in cleaned
    assert cleaned.endswith(LAST)


def test_clean_text_keeps_a_bio_like_sentence_mid_article() -> None:
    sentence = "Jane Smith is a reporter covering defence who was detained at the border in May."
    assert sentence in clean_text(article(sentence))


def test_clean_text_normalises_whitespace_and_keeps_paragraph_breaks() -> None:
    raw = "First  paragraph \r\nstill first.\t \r\n\r\n\r\nSecond\u00a0paragraph , here.  \rThird line\n\n"
    assert clean_text(raw) == "First paragraph\nstill first.\n\nSecond paragraph, here.\nThird line"


def test_clean_text_of_only_boilerplate_is_empty() -> None:
    assert clean_text("No time to read?\nGet a summary\n\nAdvertisement\n") == ""


PAGE = """<!doctype html>
<html><head>
<title>Iraq talks begin | Example News</title>
<meta property="og:title" content="Iraq and US begin troop talks - Example News">
<meta property="og:site_name" content="Example News">
<meta property="og:url" content="https://example.com/og-url">
<meta property="article:published_time" content="2024-01-25T10:00:00Z">
<link rel="canonical" href="https://example.com/world/iraq-talks">
<style>body { color: red }</style>
<script>var tracking = "No time to read";</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<main>
<article>
<header><h1>Iraq and US begin troop talks</h1><p class="byline">By Jane Smith</p></header>
<figure><img src="a.jpg"><figcaption>Soldiers in Baghdad. (AP Photo/John Doe)</figcaption></figure>
<p>Iraq and the United States began <b>talks</b> on Monday.</p>
<div class="share-buttons"><a>Share on Facebook</a><a>Tweet this</a></div>
<p>Officials said no timetable<br>had been agreed.</p>
<div class="ad-slot">Buy our product now</div>
<aside class="related-links"><a>Other story about cats</a></aside>
<div class="newsletter-signup"><form><input value="Your email"></form>Get our daily briefing</div>
<div class="author-bio">Jane Smith covers war zones for Example News.</div>
<p>Advertisement</p>
<p>The next round is expected in Washington.</p>
<!-- a comment that is not news -->
<noscript>Enable JavaScript</noscript>
</article>
<section id="comments"><p>First! Great article.</p></section>
</main>
<footer>Copyright Example News. Contact us.</footer>
</body></html>
"""


def test_clean_html_keeps_the_article_paragraphs_apart() -> None:
    text, _ = clean_html(PAGE)
    assert text == (
        "Iraq and the United States began talks on Monday.\n\n"
        "Officials said no timetable\nhad been agreed.\n\n"
        "The next round is expected in Washington."
    )


def test_clean_html_reads_title_url_published_and_site() -> None:
    _, meta = clean_html(PAGE)
    assert meta == {
        "title": "Iraq and US begin troop talks",
        "url": "https://example.com/world/iraq-talks",
        "published": "2024-01-25T10:00:00Z",
        "site": "Example News",
    }


@pytest.mark.parametrize(
    ("head", "title"),
    [
        ("<title>Iraq talks begin | Example News</title>", "Iraq talks begin"),
        (
            "<title>Iraq talks begin – Example News</title>"
            "<meta property='og:site_name' content='Example News'>",
            "Iraq talks begin",
        ),
        ("<title>Baghdad - a city waits</title>", "Baghdad - a city waits"),
        ("", "Heading of the page"),
    ],
)
def test_clean_html_title_drops_site_suffix_only(head: str, title: str) -> None:
    _, meta = clean_html(f"<html><head>{head}</head><body><h1>Heading of the page</h1><p>x</p></body></html>")
    assert meta["title"] == title


def test_clean_html_falls_back_to_time_element_and_og_url() -> None:
    page = (
        '<html><head><meta property="og:url" content="https://example.com/a"></head><body>'
        '<article><time datetime="2024-02-01">1 Feb</time><p>Body text.</p></article></body></html>'
    )
    text, meta = clean_html(page)
    assert meta == {"url": "https://example.com/a", "published": "2024-02-01"}
    assert "Body text." in text


def test_clean_html_keeps_article_even_if_its_class_looks_like_noise() -> None:
    page = '<body><div class="ad-free share-wrapper"><p>The only real paragraph of news here.</p></div>'
    assert clean_html(page)[0] == "The only real paragraph of news here."


def test_clean_html_survives_deep_nesting() -> None:
    page = "<div>" * 3000 + "<p>Deep news.</p>" + "</div>" * 3000
    assert clean_html(page)[0] == "Deep news."


@pytest.mark.parametrize("markup", ["https://example.com/a", "page.html"])
def test_clean_html_of_text_that_looks_like_a_locator_warns_nothing(markup: str) -> None:
    assert clean_html(markup)[0] == markup


BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"


@pytest.mark.skipif(not BBC.is_dir(), reason="the shared BBC news sample is not on this machine")
def test_clean_text_keeps_every_bbc_paragraph_except_bios_and_lead_ins() -> None:
    dropped = []
    for path in sorted(BBC.glob("*/*.txt")):
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        kept = set(clean_text(raw).splitlines())
        for line in raw.splitlines():
            line = re.sub(r"(?<=\w) ,(?= )", ",", " ".join(line.split()))
            if line and line not in kept:
                dropped.append(line)
    assert sorted(dropped) == [
        "Owain Bennallack is the editor of Develop magazine.",
        "Simon Perry is the editor of the Digital Lifestyles website, which covers the impact of "
        "technology on media",
        "Simon Perry is the editor of the Digital Lifestyles website, which covers the impact of "
        "technology on media",
        "The tables below show the participation rate for each Parliamentary constituency in Britain:",
    ]
