from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsqa.index.evaluation.sets import write_corpus

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`


def test_write_corpus_writes_nested_files_and_rewrites_only_changed_ones(tmp_path: Path):
    folder = write_corpus({"A/000.txt": "one\n", "B/000.txt": "two\n"}, tmp_path / "corpus")
    old = folder / "A" / "000.txt"
    os.utime(old, (1, 1))
    write_corpus({"A/000.txt": "one\n", "B/000.txt": "three\n"}, folder)
    assert old.stat().st_mtime == 1  # unchanged: not rewritten, so an incremental reindex skips it
    assert (folder / "B" / "000.txt").read_text(encoding="utf-8") == "three\n"
