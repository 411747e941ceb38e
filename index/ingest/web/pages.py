"""Fetched articles as corpus files: `CORPUS_DIR/web/<site>/<slug>-<hash>.md`, Markdown with front matter.

The article's id is its canonical URL: the file name ends in a hash of it, so fetching the same URL
again (a correction) rewrites the same file, which the incremental indexer then updates, and the
document id (its path, as for every corpus file) stays stable. The front matter holds what
ingest/reader.py reads back into citations: title, url, source (the outlet), author, date, updated.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsqa.index.ingest.parse import front_matter
from newsqa.index.ingest.web.extract import Extracted

WEB_FOLDER = "web"
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref_src|at_medium|at_campaign)$")
_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_CHARS = 60


def canonical_url(url: str) -> str:
    """`url` without what does not name the article: fragment, tracking parameters, default port,
    letter case of scheme and host."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one host (ignoring "www."): a page may name its canonical URL only there."""

    def host(url: str) -> str:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")

    return host(a) == host(b) and bool(host(a))


def article_path(canonical: str) -> str:
    """The corpus-relative path of the article whose canonical URL is `canonical`."""
    parts = urlsplit(canonical)
    site = re.sub(r"[^a-z0-9.-]+", "-", (parts.hostname or "").lower().removeprefix("www.")).strip("-.")
    site = site or "site"
    if parts.port:
        site += f"-{parts.port}"
    last = [p for p in parts.path.split("/") if p]
    stem = re.sub(r"\.(s?html?|php|aspx?)$", "", last[-1].lower()) if last else "index"
    slug = _SLUG.sub("-", stem).strip("-")[:SLUG_CHARS].strip("-") or "article"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return f"{WEB_FOLDER}/{site}/{slug}-{digest}.md"


def to_markdown(article: Extracted, url: str) -> str:
    """The corpus file of an extracted article: front matter, a blank line, the text."""
    fields = {
        "title": article.title,
        "url": url,
        "source": article.site or (urlsplit(url).hostname or "").removeprefix("www."),
        "author": article.author,
        "date": article.published,
        "updated": article.updated if article.updated != article.published else None,
    }
    lines = ["---"]
    for key, value in fields.items():
        if value:
            lines.append(f"{key}: {_field(value)}")
    lines += ["---", "", article.text.strip(), ""]
    return "\n".join(lines)


def _field(value: str) -> str:
    """A one-line front matter value that parse.front_matter reads back as written."""
    value = " ".join(value.split())
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return f'"{value}"'  # front_matter strips one pair of matching quotes
    return value


def save(corpus_dir: Path, relative: str, text: str) -> str:
    """Write the article file unless it already holds `text`: "added", "updated" or "unchanged".
    Written to a temporary file and renamed, so a reindex never reads half a file."""
    path = corpus_dir / relative
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return "added" if old is None else "updated"


def write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def expired(corpus_dir: Path, keep_days: int, today: date) -> list[str]:
    """The fetched articles (under web/) published, or else fetched, more than `keep_days` ago."""
    if keep_days <= 0:
        return []
    oldest = today - timedelta(days=keep_days)
    found = []
    for path in sorted((corpus_dir / WEB_FOLDER).rglob("*.md")):
        if path.name.startswith("."):
            continue
        fields, _ = front_matter(path.read_text(encoding="utf-8", errors="replace")[:4000])
        day = _day(fields.get("date")) or date.fromtimestamp(path.stat().st_mtime)
        if day < oldest:
            found.append(path.relative_to(corpus_dir).as_posix())
    return found


def too_old(day: str | None, keep_days: int, today: date) -> bool:
    """Whether an article of `day` (ISO) is past the retention window (never when either is unset)."""
    parsed = _day(day)
    return keep_days > 0 and parsed is not None and parsed < today - timedelta(days=keep_days)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError:
        return None
