"""When an article was published and last updated, from wherever its file says so.

Best source first: the sidecar JSON and front matter (`published:`/`date:`, `updated:`), a web
page's <meta> tags, then the page itself (htmldate: JSON-LD, <time>, visible dates), a date in the
URL path (`/2025/03/12/`), and for plain text a dateline or an "Updated …" line near the top. Dates
are ISO 8601 days ("2025-03-12"). An article without a date is normal: both are then None.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from newsqa.index.text.dates import DATE_PHRASE, DATELINE, to_date

_TIME = r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*[A-Z]{2,4})?)?"
# "Updated: 14 March 2025, 09:10 GMT", "Published March 12, 2025", "Posted on 2025-03-12"
_LABELLED = re.compile(
    rf"(?i)^(?P<label>(?:last\s+)?updated|published|posted)(?:\s+on)?\s*:?\s*(?P<date>{DATE_PHRASE}){_TIME}\.?$"
)
_BARE = re.compile(rf"^(?P<date>{DATE_PHRASE}){_TIME}\.?$")
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/\-_.]|$)|/((?:19|20)\d{2})(\d{2})(\d{2})/"
)
HEAD_LINES = 4  # a dateline sits in the first lines of the body, not further down


@dataclass(frozen=True)
class Dates:
    published: str | None = None
    updated: str | None = None


def iso(text: str | None) -> str | None:
    """`text` as an ISO day, or None when it is not a date."""
    day = to_date(text) if text else None
    return None if day is None else day.isoformat()


def url_date(url: str | None) -> str | None:
    """The date in a URL's path (`/2025/03/12/`, `/2025-03-12-`, `/20250312/`), or None."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    year, month, day = (int(g) for g in (match.groups()[:3] if match[1] else match.groups()[3:]))
    return iso(f"{year:04d}-{month:02d}-{day:02d}")


def dateline(body: str) -> tuple[Dates, str]:
    """Dates stated in the first lines of a plain-text body, and the body without the lines that
    are nothing but a date ("Updated 14 March 2025"): furniture, not news."""
    lines = body.split("\n")
    published = updated = None
    drop: set[int] = set()
    seen = 0
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        seen += 1
        if seen > HEAD_LINES:
            break
        if labelled := _LABELLED.match(line):
            day = iso(labelled["date"])
            if labelled["label"].lower().endswith("updated"):
                updated = updated or day
            else:
                published = published or day
            drop.add(i)
        elif bare := _BARE.match(line):
            published = published or iso(bare["date"])
            drop.add(i)
        elif lede := DATELINE.match(line):
            published = published or iso(lede["date"])
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return Dates(published, updated), kept


def html_dates(html: str, url: str | None) -> Dates:
    """A web page's dates as htmldate finds them (structured data, <time>, the URL, visible dates)."""
    import htmldate

    logging.getLogger("htmldate").setLevel(logging.ERROR)  # it warns about every undated page
    published = htmldate.find_date(html, url=url, original_date=True)
    updated = htmldate.find_date(html, url=url, original_date=False)
    published = iso(published)
    updated = iso(updated)
    return Dates(published, updated if updated != published else None)


def article_dates(meta: dict[str, str], suffix: str, raw: str, body: str) -> tuple[Dates, str]:
    """The article's dates from its metadata, page, URL or dateline, and its body (datelines dropped)."""
    published, updated = iso(meta.get("published")), iso(meta.get("updated"))
    if suffix in (".html", ".htm"):
        if published is None or updated is None:
            found = html_dates(raw, meta.get("url"))
            published = published or found.published
            updated = updated or (found.updated if found.updated != published else None)
    else:
        found, body = dateline(body)
        published = published or found.published
        updated = updated or found.updated
    published = published or url_date(meta.get("url"))
    if updated is not None and published is not None and updated <= published:
        updated = None  # an "update" on or before publication says nothing new
    return Dates(published, updated), body
