"""Boilerplate removal: site furniture that must never be cited as news.

`clean_text` only ever drops whole lines (navigation, share and subscribe prompts, photo captions,
author bylines and bios) and normalises whitespace; it never edits inside a sentence, and every
pattern must match the whole line, so a sentence that merely mentions "the previous article of the
treaty" survives. `clean_html` picks the article body out of a web page, reads its metadata, then
applies `clean_text`.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PreformattedString

from newsqa.index.ingest.fields import HTML_AUTHOR_META, HTML_PUBLISHED_META, HTML_UPDATED_META

# Lines that are site furniture wherever they appear.
_FURNITURE = re.compile(
    r"""(?ix)^(?:
        no\ time\ to\ read | get\ (?:a|the)\ summary
      | advertisement | advertising | ad | sponsored(?:\ content)?
      | (?:story|article)\ continues\ (?:below|after)(?:\ (?:this\ )?(?:advertisement|ad))?
      | share(?:\ this)?(?:\ (?:article|story|post|page))?(?:\ (?:on|via)\ [\w ]{1,20})?
      | tweet | email | print | copy\ link | comments? | leave\ a\ (?:comment|reply)
      | join\ the\ conversation | more\ (?:from|by)\ (?:me|the\ author|this\ author)
      | follow\ us\ on\ .{1,60} | click\ here\b.{0,100} | subscribe\b.{0,150}
      | sign\ up\b.{0,80}\b(?:newsletter|inbox|alerts|updates|for\ free)\b.{0,40}
      | (?:read|continue\ reading|see)(?:\ (?:more|also|next|the\ full\ (?:story|article)))?
        (?:\s*(?:[:»›→]|\.{3}|…).{0,150})?
      | related(?:\ (?:articles?|stories|posts|coverage|content|reading|news|topics))?\s*:.{0,200}
      | (?:copyright\ )?©.{0,120} | all\ rights\ reserved
    )[\s:.!?»›→…|]*$"""
)
# A marker followed by a list of other headlines ("Previous Article" / its title).
_LIST_MARKER = re.compile(
    r"""(?ix)^(?:
        (?P<one>(?:previous|next)\ (?:article|story|post))
      | (?:more\ from\ )?around\ the\ web | you\ (?:may|might)\ also\ like | most\ (?:read|popular|viewed)
      | recommended(?:\ (?:for\ you|stories|articles|reading))?
      | related\ (?:articles|stories|posts|coverage|content|reading)
      | trending(?:\ now|\ stories)? | more\ (?:stories|news|articles) | popular\ (?:now|stories)
    )[\s:.!?»›→…]*$"""
)
_CAPTION = re.compile(
    r"""(?ix)^(?:
        (?:photo|photograph|picture|pictured|image|illustration|video|caption|file\ (?:photo|image))s?
          (?:\ (?:credit|source|caption|courtesy))?\s*[:|/–—-]\s*\S.*
      | (?:photo|image|picture)s?\ (?:credit|courtesy|by|via|source|caption)\b.*
      | credits?\s*:.{1,150} | getty\ images | file\ photo\b.*
      | .*\((?:AP|AFP|EPA|Reuters|UPI|AAP|PA|Xinhua|Anadolu|Getty)[^)]*?\ (?:photo|images?|pool)\b[^)]*\)\.?
      | .*(?:/|\(|\bvia\ |\|)\s*getty\ images?\)?\.?
      | .*\(file\ (?:photo|image|picture)\)\.?
    )$"""
)
_MONTHS = "JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
# Agency caption: "MAXMUR CITY, IRAQ - JANUARY 26: Soldiers stand guard ... on January 26, 2007 in ...".
_AGENCY_CAPTION = re.compile(rf"^[A-Z][A-Z .,'’-]+ - (?:{_MONTHS}) \d{{1,2}}: .+ \d{{4}}\b.*$")
_NAME = r"[A-Z][\w.'’-]+(?: (?:[A-Z][\w.'’-]+|de|van|von|al|bin))*"
_BYLINE = re.compile(rf"^By {_NAME}(?: (?:and|&) {_NAME})?(?:\s*[,|–—-]\s*.{{0,60}})?$")
_NAME_LINE = re.compile(r"^[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){1,3}$")
_ABOUT_AUTHOR = re.compile(r"(?i)^about\ the\ (?:authors?|writer|reporter)s?\s*:?$")
_BIO_WORDS = re.compile(
    r"\b(?:reporter|writer|journalist|correspondent|editor|contributor|columnist|producer|author"
    r"|degree|graduate|bachelor'?s?|masters?|BS|BA|MA|PhD|covers|covering|based in)\b",
    re.IGNORECASE,
)
_BIO_VERBS = r"(?:is|was|has|holds|joined|covers|writes|reports|serves)\b"
_TRAILING_BIO = re.compile(
    rf"^{_NAME} (?:is|was) (?:a|an|the)\b[^.]{{0,80}}?\b"
    r"(?:reporter|writer|journalist|correspondent|editor|contributor|columnist|producer)\b"
)
_ENGAGEMENT = re.compile(
    r"(?i)let us know (?:what|how) you (?:think|feel)|send us (?:a message|an email|your (?:thoughts|views))"
    r"|leave (?:a|your) comments? below|share your (?:thoughts|views) in the comments"
)
_SENTENCE_END = (".", "!", "?", '"', "”", "’", "'")


def clean_text(text: str) -> str:
    """Drop boilerplate lines and normalise whitespace, keeping paragraph breaks."""
    lines = _normalise(text)
    filled = [i for i, line in enumerate(lines) if line]
    authors = _author_names([lines[i] for i in filled])
    drop: set[int] = set()
    pending = 0  # headline lines still expected after a list marker
    after_about = False
    for i in filled:
        line = lines[i]
        if marker := _LIST_MARKER.match(line):
            drop.add(i)
            pending = 1 if marker.group("one") else 15
        elif _is_furniture(line, authors):
            drop.add(i)
        elif pending and len(line) <= 160 and not line.endswith(_SENTENCE_END):
            drop.add(i)
            pending -= 1
        elif after_about and len(line) <= 800:
            drop.add(i)
        else:
            pending = 0
        after_about = bool(_ABOUT_AUTHOR.match(line))
    _drop_trailing(lines, filled, drop)
    return _join([line for i, line in enumerate(lines) if i not in drop])


def _normalise(text: str) -> list[str]:
    text = re.sub(r"\r\n?|[\u2028\u2029\x85]", "\n", text)
    text = re.sub(r"[\ufeff\u200b\u200c\u200d\u2060]", "", text)
    text = re.sub(r"[\t\x0b\x0c\xa0\u2000-\u200a\u202f\u205f\u3000]", " ", text)
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    # "Iraq , is" is an extraction artefact, not the author's punctuation.
    return [re.sub(r"(?<=\w) ,(?= )", ",", line) for line in lines]


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def byline_author(text: str) -> str | None:
    """Who a "By X" (or "By X and Y") byline in the first lines of `text` names, or None."""
    for line in _normalise(text)[:12]:
        if byline := _BYLINE.match(line):
            return re.split(r"\s*[,|–—-]\s*", byline.group(0)[3:])[0]
    return None


def _author_names(lines: list[str]) -> set[str]:
    """Names from "By X" bylines and from a name line printed twice in a row (a byline widget)."""
    names = set()
    for prev, line in zip([""] + lines, lines, strict=False):
        if byline := _BYLINE.match(line):
            names.add(re.split(r"\s*[,|–—-]\s*", byline.group(0)[3:])[0])
        elif line == prev and _NAME_LINE.match(line):
            names.add(line)
    return names


def _is_furniture(line: str, authors: set[str]) -> bool:
    if _FURNITURE.match(line) or _ABOUT_AUTHOR.match(line) or _BYLINE.match(line):
        return True
    if len(line) <= 400 and (_CAPTION.match(line) or _AGENCY_CAPTION.match(line)):
        return True
    if line in authors:
        return True
    bio_start = any(re.match(rf"{re.escape(a)} {_BIO_VERBS}", line) for a in authors)
    if bio_start and len(line) <= 800 and _BIO_WORDS.search(line):
        return True
    quoted = '"' in line or "“" in line
    return len(line) <= 400 and not quoted and bool(_ENGAGEMENT.search(line))


def _drop_trailing(lines: list[str], filled: list[int], drop: set[int]) -> None:
    """At the end only: an author bio, and lead-ins ending in ":" whose embed did not survive."""
    for i in reversed(filled):
        if i in drop:
            continue
        line = lines[i]
        if line.endswith(":") and len(line) <= 200:
            drop.add(i)
        elif len(line) <= 500 and _TRAILING_BIO.match(line) and '"' not in line:
            drop.add(i)
        else:
            return


# --- HTML -----------------------------------------------------------------------------------------

_DROP_TAGS = (
    "script style noscript nav header footer aside form figure figcaption iframe svg head title template"
    " button select textarea input label object embed canvas video audio picture img map dialog".split()
)
_NOISE_TOKENS = frozenset(
    "nav navbar navigation menu breadcrumb breadcrumbs share sharing social related recommended recirc"
    " newsletter subscribe subscription signup paywall comment comments disqus advert advertisement ad"
    " ads adslot dfp sponsor sponsored promo outbrain taboola bio byline caption credit sidebar popup"
    " modal cookie cookies consent toolbar skip".split()
)
_AUTHOR_BOX = frozenset({"box", "info", "card", "profile", "about"})
_NOISE_ROLES = frozenset({"navigation", "banner", "complementary", "contentinfo", "search", "dialog"})
_BLOCK_TAGS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre table tr hr address"
    " details summary caption center".split()
)


def clean_html(html: str) -> tuple[str, dict[str, str]]:
    """The article text of a web page and its metadata where found (title, url, published, updated, site,
    author)."""
    with warnings.catch_warnings():
        # We always pass markup, so "looks like a URL/filename" and XHTML notices are noise.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "html.parser")
    meta = _html_metadata(soup)
    root = _content_root(soup)
    for tag in root.find_all(_DROP_TAGS):
        tag.decompose()
    total = len(root.get_text())
    for tag in root.find_all(True):
        # A container holding most of the text is the article itself, whatever its class says.
        if not tag.decomposed and _is_noise(tag) and len(tag.get_text()) <= 0.6 * total:
            tag.decompose()
    return clean_text(_render(root)), meta


def _html_metadata(soup: BeautifulSoup) -> dict[str, str]:
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        value = str(tag.get("content") or "").strip()
        if key and value:
            metas.setdefault(key, value)
    found: dict[str, str] = {}
    if site := metas.get("og:site_name"):
        found["site"] = site
    title_tag, h1 = soup.find("title"), soup.find("h1")
    for candidate in (
        metas.get("og:title"),
        metas.get("twitter:title"),
        title_tag.get_text(" ", strip=True) if title_tag else None,
        h1.get_text(" ", strip=True) if h1 else None,
    ):
        if candidate:
            found["title"] = _strip_site_suffix(candidate, found.get("site"))
            break
    canonical = soup.find("link", rel="canonical")
    if url := (canonical.get("href") if canonical else None) or metas.get("og:url"):
        found["url"] = str(url).strip()
    published = next((metas[k] for k in HTML_PUBLISHED_META if k in metas), None)
    if published is None:
        time_tag = _content_root(soup).find("time", datetime=True) or soup.find("time", datetime=True)
        published = str(time_tag["datetime"]).strip() if time_tag else None
    if published:
        found["published"] = published
    if updated := next((metas[k] for k in HTML_UPDATED_META if k in metas), None):
        found["updated"] = updated
    if author := next((metas[k] for k in HTML_AUTHOR_META if k in metas and "/" not in metas[k]), None):
        found["author"] = author  # article:author is often a profile URL: not a name
    return found


def _strip_site_suffix(title: str, site: str | None) -> str:
    """ "Headline | Site" → "Headline"; a dash only separates a suffix equal to the site name."""
    title = " ".join(title.split())
    for sep in (" | ", " :: ", " · ", " — ", " – ", " - "):
        head, found, tail = title.rpartition(sep)
        if not found or not head.strip():
            continue
        if site and tail.strip().casefold() == site.casefold():
            return head.strip()
        if site and head.strip().casefold() == site.casefold():
            return tail.strip()
        if sep in (" | ", " :: ", " · ") and len(tail) <= 40 and len(tail.split()) <= 5:
            return head.strip()
    return title


def _content_root(soup: BeautifulSoup) -> Tag:
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text()))
    for found in (soup.find("main"), soup.find(role="main"), soup.body):
        if isinstance(found, Tag):
            return found
    return soup


def _is_noise(tag: Tag) -> bool:
    if tag.name in ("article", "main", "body", "html"):
        return False
    names = " ".join(tag.get_attribute_list("class") or []) + " " + str(tag.get("id") or "")
    tokens = set(re.split(r"[^a-z0-9]+", names.lower())) - {""}
    if tokens & _NOISE_TOKENS or ("author" in tokens and tokens & _AUTHOR_BOX):
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return (
        str(tag.get("role") or "").lower() in _NOISE_ROLES
        or tag.has_attr("hidden")
        or "display:none" in style
    )


def _render(root: Tag | BeautifulSoup) -> str:
    """Text with block elements as paragraph breaks (an explicit stack: pages can nest deeply)."""
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if type(node) is str:  # a paragraph break queued after a block's children
            out.append(node)
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                out.append(re.sub(r"\s+", " ", str(node)))
        elif isinstance(node, Tag):
            if node.name == "br":
                out.append("\n")
                continue
            if node.name in _BLOCK_TAGS:
                out.append("\n\n")
                stack.append("\n\n")
            elif node.name in ("td", "th"):
                stack.append(" ")
            stack.extend(reversed(node.contents))
    return "".join(out)
