"""News pages as sites serve them: an article's text inside navigation, a cookie banner, share
buttons, related links, a newsletter box, comments and a footer. Used by the web tests and by
bench/extraction.py; every piece of chrome is listed in CHROME so a test can check none is kept."""

from __future__ import annotations

import html
from pathlib import Path

# The article the web tests fetch, index and correct (4.20 becomes another fare), and what they ask.
FERRY = [
    "The Harbour Ferry Company will raise the adult single fare between Norhaven and the islands to 4.20 "
    "pounds on 1 April, the company said on Tuesday, blaming the cost of fuel.",
    "Children under twelve will keep travelling free, and the company said the 38 crossings a day would "
    "not be cut. Island councillors called the increase a blow to commuters who cross every day.",
]
QUESTION = "How much will the adult ferry fare be?"

# Each line of chrome a page carries; none may reach the extracted text.
CHROME = [
    "Accept all cookies",
    "We use cookies to personalise content and ads",
    "Manage preferences",
    "Subscribe for unlimited access",
    "Sign in to your account",
    "Share on Facebook",
    "Share on X",
    "Copy link",
    "Sign up for our morning briefing",
    "Enter your email address",
    "Related stories",
    "Stocks slide as traders weigh rate outlook",
    "Local team clinches title in overtime thriller",
    "Most read",
    "Ten recipes for a quick weeknight dinner",
    "Comments (3)",
    "Great reporting, thanks for covering this.",
    "I disagree with the premise of this piece.",
    "Terms of use",
    "Privacy policy",
    "All rights reserved",
    "Advertisement",
    # the seed articles' own kind of boilerplate, here as page widgets
    "No time to read?",
    "Get a summary",
    "Previous Article",
    "Strategies for Reducing Stomach Cancer Risk Through Diet and Lifestyle",
    "Next Article",
    "More from Around the Web",
    "Five gadgets every traveller should pack",
    "More From Me",
]
NAV = ["Home", "World", "Politics", "Business", "Technology", "Sport", "Opinion"]


def seed_articles(folder: Path) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each bundled seed article (corpus/*.txt: title line, then the body);
    the paragraphs are the body's lines of more than 12 words (not its headings and furniture)."""
    found = []
    for path in sorted(folder.glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        paragraphs = [" ".join(p.split()) for p in body.split("\n") if len(p.split()) > 12]
        found.append((title.strip(), paragraphs))
    return found


def site_page(title: str, paragraphs: list[str], *, site: str = "Harbour Herald", url: str = "",
              published: str | None = "2025-03-12", author: str | None = "Sam Okoro",
              charset: str = "utf-8", semantic: bool = True) -> str:
    """A full article page with heavy chrome around `paragraphs`; `semantic=False` builds it from
    <div>s only (no <article>, <nav>, <aside>, <footer>), as many older sites are."""
    e = html.escape
    meta = [f'<meta charset="{charset}">', f"<title>{e(title)} | {e(site)}</title>",
            f'<meta property="og:site_name" content="{e(site)}">',
            f'<meta property="og:title" content="{e(title)}">']
    if url:
        meta.append(f'<link rel="canonical" href="{e(url)}">')
    if published:
        meta.append(f'<meta property="article:published_time" content="{published}T08:00:00Z">')
    if author:
        meta.append(f'<meta name="author" content="{e(author)}">')
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in NAV)
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    c = CHROME
    page = f"""<!DOCTYPE html>
<html lang="en"><head>{''.join(meta)}
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
<style>.cookie{{position:fixed}}</style></head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>{c[1]}.</p><button>{c[0]}</button>
<a href="/cookies">{c[2]}</a></div>
<header class="site-header"><a class="logo" href="/">{e(site)}</a>
<nav class="main-nav"><ul>{nav}</ul></nav>
<div class="account"><a href="/subscribe">{c[3]}</a> <a href="/login">{c[4]}</a></div></header>
<main>
<div class="breadcrumb"><a href="/">Home</a> › <a href="/world">World</a></div>
<article class="story">
<h1 class="headline">{e(title)}</h1>
<div class="byline">By <a rel="author" href="/authors/x">{e(author or 'Staff')}</a> ·
<time datetime="{published or ''}">{published or ''}</time></div>
<ul class="share"><li><a href="#">{c[5]}</a></li><li><a href="#">{c[6]}</a></li>
<li><a href="#">{c[7]}</a></li></ul>
<div class="summary-widget"><p>{c[22]}</p><button>{c[23]}</button></div>
<div class="story-body">{body}</div>
<div class="author-more"><a href="/authors/x/more">{c[29]}</a></div>
<div class="ad" aria-label="advertisement"><span>{c[21]}</span></div>
</article>
<nav class="article-pager"><a rel="prev" href="/prev"><span>{c[24]}</span> {c[25]}</a>
<a rel="next" href="/next"><span>{c[26]}</span></a></nav>
<aside class="sponsored"><h4>{c[27]}:</h4><ul><li><a href="https://ads.example/1">{c[28]}</a></li></ul></aside>
<aside class="newsletter"><h3>{c[8]}</h3><form><label>{c[9]}</label><input type="email"></form></aside>
<aside class="related"><h2>{c[10]}</h2><ul><li><a href="/business/stocks">{c[11]}</a></li>
<li><a href="/sport/title">{c[12]}</a></li></ul></aside>
<section class="most-read"><h2>{c[13]}</h2><ol><li><a href="/food/recipes">{c[14]}</a></li></ol></section>
<section id="comments" class="comments"><h2>{c[15]}</h2>
<div class="comment"><p class="author">reader42</p><p>{c[16]}</p></div>
<div class="comment"><p class="author">skeptic</p><p>{c[17]}</p></div></section>
</main>
<footer class="site-footer"><a href="/terms">{c[18]}</a> · <a href="/privacy">{c[19]}</a>
<p>© 2025 {e(site)}. {c[20]}.</p></footer>
</body></html>"""
    if semantic:
        return page
    for tag in ("article", "nav", "aside", "footer", "header", "main", "section"):
        page = page.replace(f"<{tag} ", "<div ").replace(f"<{tag}>", "<div>").replace(f"</{tag}>", "</div>")
    return page
