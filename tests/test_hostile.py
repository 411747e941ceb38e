"""Hostile input through the service and the CLI (the bot's table is in test_bot_hostile.py), and a
corpus folder full of files that must be skipped by name while indexing completes.

The one table of empty and over-long questions is HOSTILE, here: the service, the CLI and (in
test_bot_hostile.py) the bot each refuse its rows."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main
from newsqa.index.config import Settings
from newsqa.index.errors import QuestionError
from newsqa.index.service import QA

from .conftest import SEED_CORPUS

# question → "answer" (answered or abstained) or the start of the QuestionError
HOSTILE = {
    "empty": ("", "the question is empty"),
    "whitespace": (" \t\n ", "the question is empty"),
    "tab and newline": ("\n\t", "the question is empty"),
    "nul bytes only": ("\x00\x00", "the question is empty"),
    "nul bytes inside": ("How many US\x00 troops are in Iraq?\x00", "answer"),
    "100 KB": ("troops " * 15_000, "the question is 104,999 characters long"),
    "rtl and emoji": ("‮كم عدد القوات 🚀🇮🇶 troops in Iraq?‭", "answer"),
    "telegram html": ('<b>troops</b> <a href="tg://x">Iraq</a> &amp; &lt;', "answer"),
    "markdown": ("*troops* _in_ [Iraq](http://e.com) `x` ```y``` ~z~ ||s|| \\", "answer"),
    "lone surrogate-free 4-byte": ("𝕿𝖗𝖔𝖔𝖕𝖘 in 𝕴𝖗𝖆𝖖?", "answer"),
    "not utf-8": ("caf\udce9 troops in Iraq? \ud800", "answer"),  # argv bytes, a JSON "\ud800"
}


REFUSED = {name: row for name, row in HOSTILE.items() if row[1] != "answer"}
ANSWERED = {name: row[0] for name, row in HOSTILE.items() if row[1] == "answer"}


@pytest.mark.fast
@pytest.mark.parametrize(("question", "outcome"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_questions_never_reach_the_index(tmp_path: Path, question: str, outcome: str):
    qa = QA(Settings(index_dir=tmp_path / "index"))  # no index, no model: the question is refused first
    with pytest.raises(QuestionError, match=re.escape(outcome)):
        qa.ask(question)
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("question", ANSWERED.values(), ids=ANSWERED.keys())
def test_hostile_questions_through_the_service(seed_qa: QA, question: str):
    answer = seed_qa.ask(question)
    assert isinstance(answer.answer, str) and "\x00" not in answer.question
    assert answer.abstained == (answer.answer == "") == (answer.citations == [])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile-cli")
    shutil.copytree(SEED_CORPUS, base / "corpus")
    return base


@pytest.mark.parametrize(("question", "outcome"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_questions_through_the_cli(workdir: Path, monkeypatch, question: str, outcome: str):
    monkeypatch.chdir(workdir)
    if "\x00" in question:  # argv cannot carry NUL: the way in is stdin
        result = CliRunner().invoke(main, ["ask", "-", "--json"], input=question + "\n")
    else:
        result = CliRunner().invoke(main, ["ask", question, "--json"])
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    if outcome == "answer":
        assert result.exit_code == 0, result.output
    elif "\x00" in question:  # stdin mode: one JSON error line per refused question
        assert result.exit_code == 2 and outcome in result.stdout
    else:
        assert result.exit_code == 2 and result.stderr.splitlines()[-1].startswith(f"error: {outcome}")


def test_index_skips_hostile_corpus_files_by_name_and_completes(tmp_path: Path, monkeypatch):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    shutil.copytree(SEED_CORPUS, corpus)
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nThe password is hunter2.\n", encoding="utf-8")
    with open(corpus / "huge.txt", "wb") as f:  # 50 MB, sparse: instant to make
        f.truncate(50 * 1024 * 1024)
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 50)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "cp1252.txt").write_bytes(b"Fee\n\nThe \x93quoted\x94 fee was \xa315.8m, paid last season.\n")
    (corpus / "unknown.txt").write_bytes(b"Title\n\n" + bytes(range(0x80, 0x100)))
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    (corpus / "..%2f..%2fetc%2fpasswd.txt").write_text("Traversal\n\nA harmless article body.\n")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "a..b.txt").write_text("Dots\n\nAn article whose name has two dots inside.\n")
    (corpus / "..evil..txt").write_text("Dots\n\nAnother harmless article body here.\n")
    (corpus / "front.md").write_text(
        "---\ntitle: Front\nurl: ../../../etc/passwd\nsource: ../../secret\n---\nFront matter body text.\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["index", "--env-file", os.devnull])
    assert result.exit_code == 0, result.output
    for name, reason in [
        ("huge.txt", "52.4 MB is over the 10 MB limit"),
        ("binary.txt", "binary file"),
        ("empty.md", "empty file"),
        ("..%2f..%2fetc%2fpasswd.txt", "hidden file"),
        ("..evil..txt", "hidden file"),
        ("unknown.txt", "not UTF-8 (byte 0x80 at offset 7) and its encoding could not be recognised"),
        ("link.txt", "symlink pointing outside the corpus"),
    ]:
        assert f"skipped {name}: {reason}" in result.stderr, result.stderr
    listed = CliRunner().invoke(main, ["sources", "--json", "--env-file", os.devnull])
    sources = {s["source"]: s for s in __import__("json").loads(listed.stdout)}
    assert set(sources) == {p.name for p in SEED_CORPUS.glob("*.txt")} | {
        "front.md",
        "sub/a..b.txt",
        "cp1252.txt",
    }  # ids are names inside the corpus
    assert "hunter2" not in result.output
