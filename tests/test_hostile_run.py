"""Issue 13's hostile run, through the real command: names and questions that are not UTF-8, an index
deleted and rebuilt under a running `chat`, and rebuilds that must not leak disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import SEED_CORPUS, cli_in, indexed_seed

pytestmark = pytest.mark.timeout(240)
QUESTION = "How many US troops are in Iraq?"




def _newsqa(base: Path, *args: str | bytes, stdin: bytes = b"", timeout: float = 120):
    """The real `newsqa` in a subprocess: argv and stdin as raw bytes, as a shell passes them."""
    env = {**os.environ, "CORPUS_DIR": str(base / "corpus"), "INDEX_DIR": str(base / "index")}
    command = [sys.executable, "-m", "newsqa", *args]
    return subprocess.run(command, input=stdin, capture_output=True, env=env, cwd=base, timeout=timeout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_seed(tmp_path_factory, "hostile-run")


def test_file_names_that_are_not_utf8_are_indexed_under_an_escaped_id(tmp_path: Path) -> None:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    corpus = os.fsencode(tmp_path / "corpus")
    for name, title in [(b"x\xff.txt", b"Undecodable name"), (b"new\nline.txt", b"Newline name")]:
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(title + b"\n\nThe harbour of Alba reopened on Monday after the storm.\n")
    for command in (["index"], ["index", "--rebuild"]):
        result = cli_in(tmp_path, *command)
        assert result.exit_code == 0, result.output
        assert "7 chunks" not in result.stderr and "error" not in result.output
    listed = cli_in(tmp_path, "sources")
    lines = listed.stdout.splitlines()
    assert len(lines) == 7  # one line per article, whatever its name holds
    assert any(line.startswith("x\\xff.txt\t") for line in lines)
    assert any(line.startswith("new\\x0aline.txt\t") for line in lines)
    sources = {s["source"] for s in json.loads(cli_in(tmp_path, "sources", "--json").stdout)}
    assert {"x\\xff.txt", "new\\x0aline.txt"} <= sources
    answer = cli_in(tmp_path, "ask", "When did the harbour of Alba reopen?", "--json")
    cited = {c["source"] for c in json.loads(answer.stdout)["citations"]}
    assert cited & {"x\\xff.txt", "new\\x0aline.txt"}, answer.stdout


def test_questions_that_are_not_utf8_are_answered_and_the_batch_goes_on(built: Path) -> None:
    single = _newsqa(built, "ask", b"caf\xe9 troops in Iraq?")
    assert single.returncode == 0 and b"Traceback" not in single.stderr, single.stderr
    batch = _newsqa(built, "ask", "-", "--json", stdin=QUESTION.encode() + b"\ncaf\xe9\nWho is Lavrentyev?\n")
    assert batch.returncode == 0 and b"Traceback" not in batch.stderr, batch.stderr
    rows = [json.loads(line) for line in batch.stdout.decode().splitlines()]
    assert [r["question"] for r in rows] == [QUESTION, "caf\ufffd", "Who is Lavrentyev?"]
    assert "2,500" in rows[0]["answer"] and not rows[2]["abstained"]
    chat = _newsqa(built, "chat", stdin=b"caf\xe9\n" + QUESTION.encode() + b"\n")
    assert chat.returncode == 0 and b"Traceback" not in chat.stderr, chat.stderr
    assert b"2,500" in chat.stdout


def test_refused_questions_in_a_batch_are_json_lines_and_the_rest_answered(built: Path) -> None:
    long = "troops " * 1000
    result = cli_in(built, "ask", "-", "--json", stdin=f"{long}\n{QUESTION}\n")
    assert result.exit_code == 2
    refused, answered = (json.loads(line) for line in result.stdout.splitlines())
    assert set(refused) == {"question", "error"} and refused["error"].endswith("ask something shorter")
    assert refused["question"].endswith("troops…") and len(refused["question"]) <= 200
    assert "2,500" in answered["answer"]


@pytest.mark.slow
def test_chat_keeps_answering_while_another_process_deletes_and_rebuilds_the_index(
    tmp_path: Path,
) -> None:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    assert cli_in(tmp_path, "index").exit_code == 0
    env = {**os.environ, "CORPUS_DIR": str(tmp_path / "corpus"), "INDEX_DIR": str(tmp_path / "index")}
    chat = subprocess.Popen(
        [sys.executable, "-m", "newsqa", "chat"], env=env, cwd=tmp_path,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.extend(chat.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    rebuilt_at = None
    try:
        for _ in range(300):
            chat.stdin.write(QUESTION.encode() + b"\n")  # type: ignore[union-attr]
            chat.stdin.flush()  # type: ignore[union-attr]
            time.sleep(0.3)
            answered = sum(b"2,500" in line for line in out)
            if rebuilt_at is None and answered >= 3:  # chat is up and answering: pull the index away
                shutil.rmtree(tmp_path / "index")
                rebuild = _newsqa(tmp_path, "ask", "Who is Lavrentyev?")  # builds a new index first
                assert rebuild.returncode == 0, rebuild.stderr
                rebuilt_at = len(out)
            if rebuilt_at is not None and sum(b"2,500" in line for line in out[rebuilt_at:]) >= 3:
                break
        chat.stdin.close()  # type: ignore[union-attr]
        assert chat.wait(60) == 0
    finally:
        if chat.poll() is None:
            chat.kill()
    reader.join(10)
    errors = chat.stderr.read().decode()  # type: ignore[union-attr]
    chat.stdout.close()  # type: ignore[union-attr]
    chat.stderr.close()  # type: ignore[union-attr]
    assert rebuilt_at is not None
    assert sum(b"2,500" in line for line in out[rebuilt_at:]) >= 3, errors  # answering again
    assert "Traceback" not in errors and "disk" not in errors and "damaged" not in errors, errors
    for line in errors.splitlines()[1:]:
        assert line.startswith("error: ") or line.startswith("INFO "), line


def _disk(index: Path) -> tuple[int, int]:
    """(bytes under index/chroma, vector segment folders there)."""
    chroma = index / "chroma"
    size = sum(p.stat().st_size for p in chroma.rglob("*") if p.is_file())
    return size, sum(1 for p in chroma.iterdir() if p.is_dir())


def test_rebuilds_delete_the_vector_folders_they_replace(tmp_path: Path) -> None:
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    assert cli_in(tmp_path, "index").exit_code == 0
    size, folders = _disk(tmp_path / "index")
    for _ in range(3):
        assert cli_in(tmp_path, "index", "--rebuild").exit_code == 0
    size_after, folders_after = _disk(tmp_path / "index")
    print(f"index/chroma: {size:,} bytes in {folders} folders; after three rebuilds {size_after:,} in "
          f"{folders_after}")
    assert folders_after == folders == 2  # the state collection's and the live chunks'
    assert size_after < 1.5 * size
    answer = cli_in(tmp_path, "ask", QUESTION)
    assert answer.exit_code == 0 and "2,500" in answer.stdout
