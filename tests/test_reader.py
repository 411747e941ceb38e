"""Reading the corpus: formats, metadata, ids, hashes, and every reason a file is skipped."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from newsqa.index.errors import CorpusError
from newsqa.index.ingest.reader import UnreadableFile, read_article, read_corpus, scan_corpus

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

SEED = Path(__file__).resolve().parents[1] / "corpus"
BODY = "Iraq and the United States began talks on Monday about the future of US troops.\n"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def only_article(corpus: Path):
    articles, warnings = read_corpus(corpus)
    assert warnings == []
    assert len(articles) == 1
    return articles[0]


def test_seed_corpus_gives_five_clean_articles_titled_by_line_one() -> None:
    articles, warnings = read_corpus(SEED)
    assert warnings == []
    assert [a.source for a in articles] == sorted(p.name for p in SEED.glob("*.txt"))
    for a in articles:
        raw = (SEED / a.source).read_bytes()
        first_line = raw.decode("utf-8").splitlines()[0].strip()
        # A headline is the title; a lede standing in for one is shortened to its first words.
        assert a.title == first_line or (a.title.endswith("…") and first_line.startswith(a.title[:-1]))
        assert len(a.title) <= 100
        assert a.sha256 == hashlib.sha256(raw).hexdigest()
        assert a.url is None and a.published is None and a.site is None
        for junk in ("No time to read", "Get a summary", "Previous Article", "Next Article",
                     "More from Around the Web", "More From Me", "Send us a message", "MAXMUR CITY"):
            assert junk not in a.text, (a.source, junk)


def test_seed_article_body_does_not_repeat_its_title() -> None:
    articles, _ = read_corpus(SEED)
    countdown = next(a for a in articles if a.title.startswith("Countdown to Withdrawal"))
    assert countdown.text.startswith("Iraq and the United states have been involved")


def test_seed_author_bio_is_dropped_but_news_kept() -> None:
    articles, _ = read_corpus(SEED)
    talks = next(a for a in articles if a.title.startswith("U.S. and Iraq to Begin Talks"))
    assert "Dellinger" not in talks.text
    assert "During the fall of 2023, over 60 attacks were launched" in talks.text


def test_long_first_line_is_a_lede_shortened_for_the_title_and_kept_in_the_text(tmp_path: Path) -> None:
    lede = "The Pentagon confirmed on Tuesday that the United States will reduce its military mission " \
        "in Iraq, citing joint success against the Islamic State after two decades."
    write(tmp_path / "a.txt", f"{lede}\nA second paragraph follows here.\n")
    article = only_article(tmp_path)
    title = "The Pentagon confirmed on Tuesday that the United States will reduce its military mission…"
    assert article.title == title
    assert article.text == f"{lede}\n\nA second paragraph follows here."


def test_txt_title_is_first_line_and_text_excludes_it(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\n\n  Troop talks begin  \r\n\r\n" + BODY.replace("\n", "\r\n"))
    article = only_article(tmp_path)
    assert (article.title, article.text) == ("Troop talks begin", BODY.strip())


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", b"\xef\xbb\xbfTroop talks\n\n" + BODY.encode())
    assert only_article(tmp_path).title == "Troop talks"


def test_markdown_front_matter_gives_title_and_metadata(tmp_path: Path) -> None:
    write(tmp_path / "news" / "talks.md", (
        "---\n"
        'title: "Iraq and US begin talks"\n'
        "url: https://example.com/talks\n"
        "date: 2024-01-25\n"
        "source: Example News\n"
        "tags:\n  - iraq\n"
        "---\n"
        "# Iraq and US begin talks\n\n"
        "![a soldier](soldier.jpg)\n"
        "Iraq and the **United States** began _talks_ on [Monday](https://example.com/monday).\n\n"
        "## What next\n\n"
        "- A *second* round is `expected`.\n"
    ))
    article = only_article(tmp_path)
    assert article.source == "news/talks.md"
    assert (article.title, article.url, article.published, article.site) == (
        "Iraq and US begin talks", "https://example.com/talks", "2024-01-25", "Example News"
    )
    assert article.text == (
        "Iraq and the United States began talks on Monday.\n\nWhat next\n\nA second round is expected."
    )


def test_markdown_without_front_matter_takes_title_from_first_heading(tmp_path: Path) -> None:
    write(tmp_path / "a.markdown", "Intro line before.\n\n# The *real* headline\n\n" + BODY)
    article = only_article(tmp_path)
    assert article.title == "The real headline"
    assert article.text == "Intro line before.\n\n" + BODY.strip()


def test_txt_may_have_front_matter(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "---\ntitle: Front title\npublished_at: 2024-02-01\nsite: Wire\n---\n" + BODY)
    article = only_article(tmp_path)
    assert (article.title, article.published, article.site, article.text) == (
        "Front title", "2024-02-01", "Wire", BODY.strip()
    )


def test_front_matter_values_are_kept_as_written(tmp_path: Path) -> None:
    """Why not YAML (python-frontmatter): a colon in a title stays as written;
    a timestamp is read to its day."""
    write(tmp_path / "a.md", "---\ntitle: Iraq: the talks\ndate: 2024-07-22T10:00Z\n---\n" + BODY)
    article = only_article(tmp_path)
    assert (article.title, article.published) == ("Iraq: the talks", "2024-07-22")


def test_html_article_uses_page_metadata_and_drops_scripts_and_nav(tmp_path: Path) -> None:
    write(tmp_path / "page.html", (
        "<html><head><title>Iraq talks | Example News</title>"
        '<link rel="canonical" href="https://example.com/iraq">'
        '<meta property="article:published_time" content="2024-01-25"></head>'
        "<body><nav>Home World Sport</nav><script>alert('x')</script>"
        f"<article><h1>Iraq talks</h1><p>{BODY}</p></article></body></html>"
    ))
    article = only_article(tmp_path)
    assert (article.title, article.url, article.published) == (
        "Iraq talks", "https://example.com/iraq", "2024-01-25"
    )
    assert article.text == BODY.strip()


def test_html_without_any_title_falls_back_to_file_stem(tmp_path: Path) -> None:
    write(tmp_path / "iraq-talks.htm", f"<p>{BODY}</p>")
    assert only_article(tmp_path).title == "iraq-talks"


def test_sidecar_json_supplies_metadata_and_wins(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "---\nurl: https://old.example/a\n---\nLine title\n" + BODY)
    write(tmp_path / "a.txt.json", json.dumps({
        "title": "Sidecar title", "url": "https://example.com/a", "published": "2024-03-01",
        "source": "Example Wire",
    }))
    article = only_article(tmp_path)
    assert (article.title, article.url, article.published, article.site) == (
        "Sidecar title", "https://example.com/a", "2024-03-01", "Example Wire"
    )


def test_editing_the_sidecar_changes_sha256(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Title\n" + BODY)
    bare = only_article(tmp_path).sha256
    assert bare == hashlib.sha256(("Title\n" + BODY).encode()).hexdigest()
    write(tmp_path / "a.txt.json", '{"url": "https://example.com/1"}')
    first = only_article(tmp_path).sha256
    write(tmp_path / "a.txt.json", '{"url": "https://example.com/2"}')
    assert len({bare, first, only_article(tmp_path).sha256}) == 3


def test_sha256_changes_when_content_changes(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Title\n" + BODY)
    before = only_article(tmp_path).sha256
    write(tmp_path / "a.txt", "Title\n" + BODY + "One more sentence.\n")
    assert only_article(tmp_path).sha256 != before


SKIPS = [
    ("bin.txt", b"Title\n\x00\x01\x02PNG data", "skipped bin.txt: binary file"),
    ("ctl.txt", b"Title\n" + b"\x01\x02\x03\x04 text " * 10, "skipped ctl.txt: binary file"),
    ("empty.txt", b"", "skipped empty.txt: empty file"),
    ("blank.md", b"  \n\n \t\n", "skipped blank.md: empty file"),
    ("title-only.txt", b"Just a title\n", "skipped title-only.txt: empty after cleaning"),
    ("junk.txt", b"Title\n\nNo time to read?\nGet a summary\n", "skipped junk.txt: empty after cleaning"),
    ("sub/unknown.txt", b"Title\n\n" + bytes(range(0x80, 0x100)),
     "skipped sub/unknown.txt: not UTF-8 (byte 0x80 at offset 7) and its encoding could not be recognised"),
    ("bad-utf16.txt", b"\xff\xfeT\x00\x00\xd8", "skipped bad-utf16.txt: not valid UTF-16 despite its byte "
     "order mark (unexpected end of data)"),
    ("big.txt", b"Title\n\n" + b"word " * 100, "skipped big.txt: 507 bytes is over the 200 bytes limit"),
    (".hidden.txt", b"Title\n\n" + BODY.encode(), "skipped .hidden.txt: hidden file"),
    ("bad.txt", b"Title\n\n" + BODY.encode(), "skipped bad.txt.json: sidecar is not a JSON object"),
]


@pytest.mark.parametrize(("name", "content", "warning"), SKIPS, ids=[s[0] for s in SKIPS])
def test_unusable_file_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, name: str, content: bytes, warning: str
) -> None:
    write(tmp_path / "good.txt", "Good\n" + BODY)
    write(tmp_path / name, content)
    if name == "bad.txt":
        write(tmp_path / "bad.txt.json", "[1, 2]")
    articles, warnings = read_corpus(tmp_path, max_bytes=200)
    assert [a.source for a in articles] == ["good.txt"]
    assert warnings == [warning]


def test_oversize_message_uses_megabytes(tmp_path: Path) -> None:
    write(tmp_path / "big.txt", b"Title\n\n" + b"x" * 1_500_000)
    _, warnings = read_corpus(tmp_path, max_bytes=1_000_000)
    assert warnings == ["skipped big.txt: 1.5 MB is over the 1 MB limit"]


def test_read_article_raises_unreadable_file_with_reason(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"Title\n\x00 binary")
    with pytest.raises(UnreadableFile) as info:
        read_article(path, tmp_path)
    assert isinstance(info.value, CorpusError)
    assert info.value.reason == "binary file"
    assert "a.txt" in str(info.value)


def test_symlink_outside_the_corpus_is_not_followed(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    write(corpus / "good.txt", "Good\n" + BODY)
    secret = write(outside / "secret.txt", "Secret\nThe password is hunter2.\n")
    (corpus / "link.txt").symlink_to(secret)
    (corpus / "dir").symlink_to(outside, target_is_directory=True)
    articles, warnings = read_corpus(corpus)
    assert [a.source for a in articles] == ["good.txt"]
    assert warnings == [
        "skipped dir/: symlink pointing outside the corpus",
        "skipped link.txt: symlink pointing outside the corpus",
    ]
    with pytest.raises(UnreadableFile, match="outside the corpus"):
        read_article(corpus / "link.txt", corpus)


def test_sidecar_symlink_outside_the_corpus_is_not_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", "Title\n" + BODY)
    (corpus / "a.txt.json").symlink_to(write(tmp_path / "meta.json", '{"title": "Leaked"}'))
    articles, warnings = read_corpus(corpus)
    assert articles == []
    assert warnings == ["skipped a.txt.json: symlink pointing outside the corpus"]


def test_symlink_inside_the_corpus_is_followed_without_looping(tmp_path: Path) -> None:
    write(tmp_path / "real" / "a.txt", "Title\n" + BODY)
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real" / "a.txt")
    (tmp_path / "real" / "loop").symlink_to(tmp_path, target_is_directory=True)
    articles, warnings = read_corpus(tmp_path)
    assert [a.source for a in articles] == ["alias.txt", "real/a.txt"]
    assert warnings == []


def test_hidden_folders_other_extensions_and_readme_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Title\n" + BODY)
    write(tmp_path / ".git" / "notes.txt", "Title\n" + BODY)
    write(tmp_path / "data.csv", "a,b\n")
    write(tmp_path / "a.json", '{"title": "not a sidecar of anything"}')
    write(tmp_path / "README.md", "# About this corpus\n\nArticles about Iraq.\n")
    assert [a.source for a in read_corpus(tmp_path)[0]] == ["a.txt"]


def test_sources_are_relative_with_forward_slashes_and_sorted(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.md", "a/b/c.html", "A.txt"):
        write(tmp_path / name, f"Title {name}\n" + BODY)
    assert [a.source for a in read_corpus(tmp_path)[0]] == ["A.txt", "a/b/c.html", "a/z.md", "b.txt"]


def test_missing_corpus_folder_raises_corpus_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere"):
        read_corpus(tmp_path / "nowhere")


def test_corpus_path_that_is_a_file_raises_corpus_error(tmp_path: Path) -> None:
    path = write(tmp_path / "file.txt", "Title\n" + BODY)
    with pytest.raises(CorpusError, match="file.txt"):
        read_corpus(path)


def test_fifo_named_like_an_article_is_skipped_without_blocking(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", "Good\n" + BODY)
    os.mkfifo(tmp_path / "pipe.txt")
    articles, warnings = read_corpus(tmp_path)
    assert [a.source for a in articles] == ["good.txt"]
    assert warnings == ["skipped pipe.txt: not a regular file"]


def test_scan_corpus_only_hashes_files_whose_sha256_is_known(tmp_path: Path) -> None:
    write(tmp_path / "same.txt", "Same title\n\n" + BODY)
    write(tmp_path / "edited.txt", "Edited title\n\n" + BODY)
    write(tmp_path / "bad.txt", b"Title\n\n\x00 broken")
    articles, _ = read_corpus(tmp_path)
    known = {a.source: a.sha256 for a in articles} | {"edited.txt": "0" * 64, "bad.txt": "0" * 64}
    read, unchanged, warnings = scan_corpus(tmp_path, known)
    assert [a.source for a in read] == ["edited.txt"]
    assert unchanged == {"same.txt": next(a.sha256 for a in articles if a.source == "same.txt")}
    assert warnings == ["skipped bad.txt: binary file"]
