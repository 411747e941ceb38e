"""A decoded article file to (title, body, metadata): front matter, Markdown, HTML, a lede for a title."""

from __future__ import annotations

import re

from newsqa.index.ingest.clean import clean_html
from newsqa.index.ingest.fields import FIELD_KEYS
from newsqa.index.text.sentences import split_sentences
from newsqa.index.text.shorten import shorten

_FIELD_LINE = re.compile(r"[\w-]+[ \t]*:")


def metadata(fields: dict[str, str]) -> dict[str, str]:
    """Our metadata names from front matter or sidecar keys; blank values are dropped."""
    found: dict[str, str] = {}
    for name, keys in FIELD_KEYS.items():
        value = next((fields[k] for k in keys if fields.get(k)), None)
        if value:
            found[name] = value
    return found


def parse(text: str, suffix: str) -> tuple[str, str, dict[str, str]]:
    """(title, body, metadata) of a decoded file; title is "" when the file names none."""
    if suffix in (".html", ".htm"):
        body, meta = clean_html(text)
        return meta.pop("title", ""), body, meta
    fields, text = front_matter(text)
    meta = metadata(fields)
    if suffix in (".md", ".markdown"):
        heading = re.search(r"(?m)^#[ \t]+(.+?)[ \t#]*$", text)
        if heading and "title" not in meta:
            title = " ".join(strip_markdown(heading.group(1)).split())
            text = text[: heading.start()] + text[heading.end() :]
            return title, strip_markdown(text), meta
        text = strip_markdown(text)
    if "title" in meta:
        return meta.pop("title"), text, meta
    first, _, rest = text.strip().partition("\n")
    first = first.strip()
    # Dropping a lede that stands in for the title would lose the article's main facts.
    return first, (first + "\n\n" if is_lede(first) else "") + rest, meta


def headline_from_lede(lede: str, limit: int = 90) -> str:
    """A citation-sized title for an article that starts with its lede: its first words."""
    first = split_sentences(lede)[0] if lede else lede
    return shorten(first, limit, strip=",;:")


def is_lede(first_line: str) -> bool:
    """A long first line ending a sentence is the lede paragraph, not a headline."""
    return len(first_line) > 150 and first_line.endswith((".", '"', "”", "!", "?"))


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between `---` fences at the top; anything else is left as body.

    Not python-frontmatter: its YAML turns `date: 2024-07-22T10:00Z` into a datetime, fails on
    `title: Iraq: the talks` and strips the body, where news front matter wants the text as written."""
    match = re.match(r"\A\s*---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", text, re.DOTALL)
    if match:
        block, body = match.group(1), text[match.end() :]
    else:
        opened = re.match(r"\A\s*---[ \t]*\n", text)
        if not opened:
            return {}, text
        # Never closed: its leading `key: value` lines are still front matter, never body text.
        lines = text[opened.end() :].split("\n")
        n = next((i for i, line in enumerate(lines) if not _FIELD_LINE.match(line)), len(lines))
        block, body = "\n".join(lines[:n]), "\n".join(lines[n:])
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        # Nested YAML (indented lines, list items) is ignored rather than misread.
        if sep and key.strip() and not line[:1].isspace() and re.fullmatch(r"[\w-]+", key.strip()):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            fields[key.strip().lower()] = value
    if not fields and match:
        return {}, text
    return fields, body


def drop_repeated_title(body: str, title: str) -> str:
    """Sites often print the headline again at the top of the body."""
    first, _, rest = body.lstrip().partition("\n")
    return rest if first.strip().casefold() == title.strip().casefold() else body


def strip_markdown(text: str) -> str:
    """Markdown to plain text, lightly: headings, emphasis, links and images, code fences, quotes."""
    text = re.sub(r"(?m)^[ \t]*(?:```|~~~).*$", "", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?m)^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", "", text)  # link reference definitions
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
    text = re.sub(r"(?m)^[ \t]*#{1,6}[ \t]+(.*?)[ \t#]*$", r"\1", text)
    text = re.sub(r"(?m)^[ \t]*(?:[-*_][ \t]*){3,}$|^[ \t]*=+[ \t]*$", "", text)  # rules, setext
    text = re.sub(r"(?m)^[ \t]*>[ \t]?", "", text)
    text = re.sub(r"(?m)^([ \t]*)[-*+][ \t]+", r"\1", text)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])", r"\1", text)
    return re.sub(r"`([^`\n]+)`", r"\1", text)
