"""Issue 13's budgets and small fixes, through the command: chunks per article and per run, an empty
corpus, unclosed front matter, `-k` markers, quotes in source order and without doubled marks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsqa.bot.output import quoted

from .conftest import SEED_CORPUS, cli_in, indexed_seed

pytestmark = pytest.mark.timeout(240)




def _chunks(base: Path) -> dict[str, int]:
    return {s["source"]: s["chunks"] for s in json.loads(cli_in(base, "sources", "--json").stdout)}


def test_a_huge_article_is_cut_to_max_article_chunks_with_a_warning(tmp_path: Path) -> None:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    (tmp_path / "corpus" / "words.txt").write_text("Words\n\n" + "alpha\n" * 50_000, encoding="utf-8")
    sentence = "The harbour of Alba handled more ships than ever in the spring of this year. "
    (tmp_path / "corpus" / "long.txt").write_text("Long\n\n" + sentence * 20_000, encoding="utf-8")  # 1.5 MB
    result = cli_in(tmp_path, "index")
    assert result.exit_code == 0, result.output
    for name in ("words.txt", "long.txt"):
        assert f"warning: indexed only the first 50 chunks of {name}" in result.stderr
    chunks = _chunks(tmp_path)
    assert chunks["words.txt"] == chunks["long.txt"] == 50  # the default MAX_ARTICLE_CHUNKS
    assert all(n < 10 for source, n in chunks.items() if source.endswith(".txt") and source[0] == "0")


def test_max_reindex_chunks_spreads_the_work_over_runs(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    monkeypatch.setenv("MAX_REINDEX_CHUNKS", "10")
    first = cli_in(tmp_path, "index")
    assert first.exit_code == 0, first.output
    assert "(MAX_REINDEX_CHUNKS); run `newsqa index` again to continue" in first.stderr
    indexed = [len(_chunks(tmp_path))]
    for _ in range(5):
        assert cli_in(tmp_path, "index").exit_code == 0
        indexed.append(len(_chunks(tmp_path)))
    assert indexed[0] < 5 and indexed[-1] == 5 and indexed == sorted(indexed)


def test_an_empty_corpus_is_indexed_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    result = cli_in(tmp_path, "index")
    assert result.exit_code == 0
    assert f"warning: no articles in {tmp_path / 'corpus'}: add .txt, .md or .html files" in result.stderr


def test_unclosed_front_matter_is_never_cited_as_body(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text(
        "---\ntitle: Harbour news\nurl: https://example.com/harbour\n\n"
        "The harbour of Alba reopened on Monday after the storm.\n",
        encoding="utf-8",
    )
    assert cli_in(tmp_path, "index").exit_code == 0
    answer = json.loads(cli_in(tmp_path, "ask", "When did the harbour of Alba reopen?", "--json").stdout)
    [citation] = answer["citations"]
    assert (citation["title"], citation["url"]) == ("Harbour news", "https://example.com/harbour")
    assert "title:" not in citation["text"] and "---" not in citation["text"]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_seed(tmp_path_factory, "budgets")


def test_fewer_sources_than_quoted_drops_their_markers(seed: Path) -> None:
    full = json.loads(cli_in(seed, "ask", "How many US troops are in Iraq?", "--json").stdout)
    assert "[3]" in full["answer"]  # quoted from three articles
    two = json.loads(cli_in(seed, "ask", "How many US troops are in Iraq?", "--json", "-k", "2").stdout)
    assert [c["n"] for c in two["citations"]] == [1, 2]
    assert "[3]" not in two["answer"] and "[1] [2]" in two["answer"]


def test_a_quote_keeps_the_order_of_its_article(seed: Path) -> None:
    result = cli_in(seed, "ask", "Who is Lavrentyev?")
    text = " ".join(result.stdout.split())
    first, second = "“Recent statements from Moscow", "This information, attributed to Alexander Lavrentyev"
    quote = text[text.index(first) :]  # the source's quote, after the answer
    assert second in quote


@pytest.mark.fast
@pytest.mark.parametrize(
    ("text", "shown"),
    [("Plain.", "“Plain.”"), ("“Quoted,” he said.", "“Quoted,” he said.”"), ('"Both"', '"Both"')],
)
def test_quotes_never_double_their_marks(text: str, shown: str) -> None:
    assert quoted(text) == shown
    assert "““" not in quoted(text) and "””" not in quoted(text)
