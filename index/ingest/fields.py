"""Where an article's metadata is found: front matter and sidecar keys, and web pages' <meta> names."""

from __future__ import annotations

# Front matter and sidecar keys of each metadata field; the first one set wins.
FIELD_KEYS = {
    "title": ("title",),
    "url": ("url", "link", "source_url", "canonical_url"),
    "published": ("published", "published_at", "date", "pubdate"),
    "updated": ("updated", "updated_at", "modified", "last_modified", "date_modified"),
    "site": ("source", "site", "publication"),
    "author": ("author", "authors", "byline"),
}
# <meta> property, name or itemprop values that give a web page's publication date, best first.
HTML_PUBLISHED_META = tuple(
    "article:published_time og:article:published_time datepublished pubdate publishdate publish-date"
    " dc.date.issued dc.date date parsely-pub-date sailthru.date".split()
)
# <meta> values that give the date a web page was last updated, best first.
HTML_UPDATED_META = tuple(
    "article:modified_time og:updated_time datemodified dc.date.modified last-modified lastmod".split()
)
# <meta> values naming a web page's author, best first.
HTML_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
