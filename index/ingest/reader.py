"""Reading the corpus folder into `Article`s.

Articles are `.txt`, `.md`/`.markdown` and `.html`/`.htm` files, walked in sorted order; other files
are ignored, and dot-names (`.git`, `.draft.txt`) and README/LICENSE/CHANGELOG files are never read.
A `.txt` article is a title line then the body; `.txt` and `.md` may open with a front matter block
of `key: value` lines between `---` fences (`title`, `url`, `date`, `updated`, `source`, ...).
Dates are read as ingest/dates.py says, from these fields or the file itself.

Sidecar convention: metadata for `a.txt` may live in `a.txt.json` next to it, an object with any of
"title", "url", "published", "updated", "source" (the publication) and "author". Sidecar values win
over the file's own; the sidecar's bytes count towards the article's sha256, so editing it triggers a reindex.

Nothing outside the corpus folder is ever opened: a symlink is followed only if it resolves inside.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from newsqa.index.errors import CorpusError
from newsqa.index.ingest.clean import byline_author, clean_text
from newsqa.index.ingest.dates import article_dates
from newsqa.index.ingest.decode import Undecodable, decode
from newsqa.index.ingest.parse import drop_repeated_title, headline_from_lede, is_lede, metadata, parse
from newsqa.index.types import Article

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})
SIDECAR_SUFFIX = ".json"
_NOT_ARTICLES = frozenset({"readme", "license", "licence", "changelog"})  # notes about the corpus
_UNSAFE = frozenset({"Cc", "Cs", "Zl", "Zp"})  # control, lone surrogate, line and paragraph separators


class UnreadableFile(CorpusError):
    """One corpus file cannot be read as an article; `reason` says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"cannot read {source}: {reason}", source=source, reason=reason)
        self.source = source
        self.reason = reason


def read_corpus(corpus_dir: Path, *, max_bytes: int = 10_000_000) -> tuple[list[Article], list[str]]:
    """Every readable article under `corpus_dir`, and one warning per file skipped."""
    articles, _, warnings = scan_corpus(corpus_dir, {}, max_bytes=max_bytes)
    return articles, warnings


def scan_corpus(
    corpus_dir: Path, known: Mapping[str, str], *, max_bytes: int = 10_000_000
) -> tuple[list[Article], dict[str, str], list[str]]:
    """Like `read_corpus`, but a file whose sha256 is still `known[source]` is hashed, not parsed.

    Returns the articles read, the unchanged sources (source → sha256) and the warnings. Parsing
    and cleaning are most of what reading costs, and an incremental reindex needs them only for
    new and changed files.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist", path=str(corpus_dir))
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {corpus_dir} is not a folder", path=str(corpus_dir))
    articles: list[Article] = []
    unchanged: dict[str, str] = {}
    warnings: list[str] = []
    seen: set[str] = set()
    root = corpus_dir.resolve()  # once: resolving it for each file was a fifth of a BBC scan
    for path in _walk(corpus_dir, warnings):
        try:
            source, raw, sidecar_raw, sha256 = _read_raw(path, corpus_dir, max_bytes, root)
            if source in seen:  # `a\xff.txt` written out, next to a file whose name has the byte 0xff
                raise UnreadableFile(source, "another file's name reads the same once escaped")
            seen.add(source)
            if known.get(source) == sha256:
                unchanged[source] = sha256
            else:
                articles.append(_article(Path(path), source, raw, sidecar_raw, sha256))
        except UnreadableFile as exc:
            warnings.append(f"skipped {exc.source}: {exc.reason}")
    return articles, unchanged, warnings


def read_article(path: Path, corpus_dir: Path, *, max_bytes: int = 10_000_000) -> Article:
    """One article file; raises `UnreadableFile` with the reason it cannot be used."""
    return _article(Path(path), *_read_raw(path, corpus_dir, max_bytes))


def _read_raw(
    path: Path, corpus_dir: Path, max_bytes: int, root: Path | None = None
) -> tuple[str, bytes, bytes | None, str]:
    """(source, file bytes, sidecar bytes or None, sha256 over both); `root`: the corpus resolved."""
    try:
        source = _relative(path, corpus_dir)
    except ValueError:
        raise UnreadableFile(str(path), "outside the corpus") from None
    root = root or Path(corpus_dir).resolve()
    raw = _read_inside(Path(path), root, source, max_bytes)
    digest = hashlib.sha256(raw)
    sidecar_path = Path(path).with_name(Path(path).name + SIDECAR_SUFFIX)
    sidecar_raw = None
    if os.path.lexists(sidecar_path):
        sidecar_raw = _read_inside(sidecar_path, root, source + SIDECAR_SUFFIX, max_bytes)
        digest.update(b"\0sidecar\0" + sidecar_raw)
    return source, raw, sidecar_raw, digest.hexdigest()


def _article(path: Path, source: str, raw: bytes, sidecar_raw: bytes | None, sha256: str) -> Article:
    sidecar = {} if sidecar_raw is None else _parse_sidecar(sidecar_raw, source + SIDECAR_SUFFIX)
    text = _decode(raw, source)
    title, body, meta = parse(text, path.suffix.lower())
    meta.update(sidecar)
    title = " ".join((meta.get("title") or title).split()) or path.stem
    if is_lede(title):
        title = headline_from_lede(title)  # the lede itself stays in the body
    else:
        body = drop_repeated_title(body, title)
    dates, body = article_dates(meta, path.suffix.lower(), text, body)
    author = meta.get("author") or byline_author(body)  # before clean_text drops the byline
    body = clean_text(body)
    if not body:
        raise UnreadableFile(source, "empty after cleaning")
    return Article(
        source=source,
        title=title,
        text=body,
        sha256=sha256,
        url=meta.get("url"),
        published=dates.published,
        updated=dates.updated,
        site=meta.get("site"),
        author=author,
    )


def _relative(path: Path, corpus_dir: Path) -> str:
    """The document id of `path`: relative to the corpus, `/`-separated, shown safely (`safe_name`)."""
    # abspath, not resolve: a symlink's own name inside the corpus is the document id.
    rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(corpus_dir))
    return safe_name(rel.as_posix())


def safe_name(name: str) -> str:
    """`name` as valid one-line UTF-8: bytes the OS name had that are not UTF-8, control characters
    and line separators become `\\xNN` / `\\uNNNN` escapes (a name is as the OS gives it, not text)."""
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode's surrogateescape keeps it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in _UNSAFE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _walk(corpus_dir: Path, warnings: list[str]) -> list[Path]:
    """Article paths sorted by source; links leaving the corpus and link loops are not followed."""
    root = corpus_dir.resolve()
    seen = {root}
    stack = [corpus_dir]
    found: list[Path] = []
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if folder == corpus_dir:
                raise CorpusError(f"cannot list corpus folder {corpus_dir}: {exc.strerror}") from exc
            warnings.append(f"skipped {_relative(folder, corpus_dir)}/: cannot list folder ({exc.strerror})")
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            is_article = path.suffix.lower() in ARTICLE_SUFFIXES and path.stem.lower() not in _NOT_ARTICLES
            if entry.name.startswith("."):
                if is_article and not entry.is_dir():
                    warnings.append(f"skipped {_relative(path, corpus_dir)}: hidden file")
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not target.exists():
                    if is_article:
                        warnings.append(f"skipped {_relative(path, corpus_dir)}: broken symlink")
                    continue
                if not target.is_relative_to(root):
                    if is_article or target.is_dir():
                        rel = _relative(path, corpus_dir) + ("/" if target.is_dir() else "")
                        warnings.append(f"skipped {rel}: symlink pointing outside the corpus")
                    continue
            if entry.is_dir():
                target = path.resolve()
                if target not in seen:  # a link back to a folder already walked would loop
                    seen.add(target)
                    stack.append(path)
            elif is_article:
                found.append(path)
    return sorted(found, key=lambda p: _relative(p, corpus_dir))


def _read_inside(path: Path, root: Path, source: str, max_bytes: int) -> bytes:
    """The bytes of a regular file that resolves inside the corpus, at most `max_bytes` of them."""
    target = path.resolve()
    if not target.is_relative_to(root):
        raise UnreadableFile(source, "symlink pointing outside the corpus")
    try:
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(source, "not a regular file")
        if info.st_size > max_bytes:
            raise UnreadableFile(source, _too_big(info.st_size, max_bytes))
        with target.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(source, f"cannot be read ({exc.strerror})") from exc
    if len(raw) > max_bytes:  # grew since stat()
        raise UnreadableFile(source, _too_big(len(raw), max_bytes))
    return raw


def _too_big(size: int, limit: int) -> str:
    return f"{_human(size)} is over the {_human(limit)} limit"


def _human(size: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _decode(raw: bytes, source: str) -> str:
    try:
        return decode(raw)[0]
    except Undecodable as exc:
        raise UnreadableFile(source, str(exc)) from None


def _parse_sidecar(raw: bytes, source: str) -> dict[str, str]:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(source, f"sidecar is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UnreadableFile(source, "sidecar is not a JSON object")
    return metadata({str(k).lower(): str(v).strip() for k, v in data.items() if isinstance(v, str | int)})
