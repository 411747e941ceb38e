"""Faults on disk: a corrupt or half-written index folder, a full disk, a read-only index folder.

Each fault is made for real on a copy of an index built once: bytes of chroma.sqlite3 truncated or
overwritten, files removed, a per-process file size limit (RLIMIT_FSIZE, so SQLite's writes fail as on
a full disk; root ignores chmod, and no small tmpfs is available), a read-only bind mount in a private
mount namespace (`unshare -m`; skipped where that is not permitted).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ROOT, cli_in, indexed_seed

pytestmark = pytest.mark.timeout(240)
QUESTION = "How many US troops are in Iraq?"




@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """corpus/ and index/ of the seed corpus, indexed once through the CLI."""
    return indexed_seed(tmp_path_factory, "faults")


@pytest.fixture
def broken(built: Path, tmp_path: Path) -> Callable[[Callable[[Path], None]], Path]:
    """A copy of the built folder whose index/chroma was damaged by the given function."""

    def make(damage: Callable[[Path], None]) -> Path:
        shutil.copytree(built, tmp_path / "copy")
        damage(tmp_path / "copy" / "index" / "chroma")
        return tmp_path / "copy"

    return make


def _segments(chroma: Path) -> list[Path]:
    return [p for p in chroma.iterdir() if p.is_dir()]


def _truncate_sqlite(chroma: Path) -> None:
    os.truncate(chroma / "chroma.sqlite3", 4096)  # a half-written copy


def _garbage_sqlite(chroma: Path) -> None:
    size = (chroma / "chroma.sqlite3").stat().st_size
    (chroma / "chroma.sqlite3").write_bytes(os.urandom(size))


def _chroma_is_a_file(chroma: Path) -> None:
    shutil.rmtree(chroma)
    chroma.write_text("not a folder\n")


UNREADABLE = {
    "no chroma.sqlite3": lambda chroma: (chroma / "chroma.sqlite3").unlink(),
    "empty chroma.sqlite3": lambda chroma: os.truncate(chroma / "chroma.sqlite3", 0),
    "truncated chroma.sqlite3": _truncate_sqlite,
    "garbage chroma.sqlite3": _garbage_sqlite,
    "chroma is a file": _chroma_is_a_file,
}


@pytest.mark.parametrize("damage", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_index_is_one_clear_line_and_rebuild_recovers_keeping_the_old_files(
    broken, damage, caplog
):
    base = broken(damage)
    index_dir = base / "index"
    for command in (["ask", QUESTION], ["index"]):
        result = cli_in(base, *command)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
        assert str(index_dir) in result.stderr and "newsqa index --rebuild" in result.stderr
        assert "damaged" in result.stderr and "no index yet" not in result.stderr
        assert "delete" not in result.stderr  # advice to delete would leave nothing
    caplog.set_level(logging.WARNING, logger="newsqa.index.service")
    rebuilt = cli_in(base, "index", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    [aside] = list(index_dir.glob("chroma.broken-*"))
    assert f"moved it aside to {aside}" in caplog.text  # said, and nothing deleted:
    assert aside.is_file() if damage is _chroma_is_a_file else aside.is_dir() and _segments(aside)
    answer = cli_in(base, "ask", QUESTION)
    assert answer.exit_code == 0 and "2,500" in answer.stdout


MISSING = {
    # Chroma rebuilds what it derives from chroma.sqlite3.
    "no vector segment files": lambda chroma: [shutil.rmtree(p) for p in _segments(chroma)],
    "truncated vector segment files": lambda chroma: [
        os.truncate(f, 10) for p in _segments(chroma) for f in p.iterdir()
    ],
}


@pytest.mark.parametrize("damage", MISSING.values(), ids=MISSING.keys())
def test_missing_index_files_are_rebuilt_or_recovered_and_the_question_answered(broken, damage):
    base = broken(damage)
    result = cli_in(base, "ask", QUESTION)
    assert result.exit_code == 0, result.output
    assert "2,500" in result.stdout


def _add_bulletins(corpus: Path, n: int) -> None:
    for i in range(n):
        (corpus / f"bulletin-{i:03d}.txt").write_text(
            f"Bulletin {i}\n\nReport {i} about harbour traffic and weather in the port of Alba.\n",
            encoding="utf-8",
        )


def _run_index(base: Path, prefix: list[str], python_prefix: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        f"{python_prefix}import sys; from newsqa.bot.cli import main; sys.argv = ['newsqa', 'index']; main()"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CORPUS_DIR", "INDEX_DIR")},
        "CORPUS_DIR": str(base / "corpus"),
        "INDEX_DIR": str(base / "index"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [*prefix, sys.executable, "-c", code], env=env, cwd=base, capture_output=True, text=True, timeout=180
    )


def _assert_old_index_serves(base: Path, generation: int) -> None:
    from newsqa.index.config import Settings
    from newsqa.index.service import QA

    qa = QA(Settings(corpus_dir=base / "corpus", index_dir=base / "index"))
    try:
        assert qa.store.read_state().generation == generation
        assert "2,500" in qa.ask(QUESTION).answer
        assert len(qa.sources()) == 5
    finally:
        qa.close()


def _generation(base: Path) -> int:
    from newsqa.index.config import Settings
    from newsqa.index.store.chroma import ChromaStore

    return ChromaStore(Settings(index_dir=base / "index")).read_state().generation


def test_disk_full_during_reindex_is_a_clear_error_and_the_old_index_keeps_serving(broken):
    base = broken(lambda chroma: None)
    generation = _generation(base)
    _add_bulletins(base / "corpus", 60)
    biggest = max(f.stat().st_size for f in (base / "index").rglob("*") if f.is_file())
    limit = biggest + 20_000  # every file may grow by 20 kB, then writes fail with EFBIG
    result = _run_index(
        base,
        [],
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); ",
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "reindex failed, the previous index keeps serving" in result.stderr
    assert "file size limit (ulimit -f)" in result.stderr  # the cause, not a guess
    _assert_old_index_serves(base, generation)
    assert cli_in(base, "index").exit_code == 0  # with room again, the reindex completes


def _can_mount_read_only(folder: Path) -> bool:
    probe = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} {folder}"
    try:
        return subprocess.run(["unshare", "-m", "sh", "-c", probe], capture_output=True).returncode == 0
    except OSError:
        return False


def test_read_only_index_folder_is_a_clear_error_and_the_old_index_keeps_serving(broken):
    base = broken(lambda chroma: None)
    index_dir = base / "index"
    if not _can_mount_read_only(index_dir):
        pytest.skip("needs `unshare -m` and mount (root with CAP_SYS_ADMIN) for a read-only bind mount")
    generation = _generation(base)
    _add_bulletins(base / "corpus", 5)
    mount = f"mount --bind {index_dir} {index_dir} && mount -o remount,bind,ro {index_dir} {index_dir} && "
    result = _run_index(base, ["unshare", "-m", "sh", "-c", mount + 'exec "$@"', "sh"])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot write to the index directory {index_dir}" in result.stderr
    assert "Read-only file system" in result.stderr
    _assert_old_index_serves(base, generation)
