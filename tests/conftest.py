"""Shared fixtures: isolated environment, no network but loopback, the real model, a seed index."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsqa.index.config import Settings
from tests.chroma_server import ChromaServer

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
# The public `--json` contract of one answer, and of each of its citations.
JSON_KEYS = {
    "question",
    "answer",
    "abstained",
    "short_answer",
    "resolved_question",
    "citations",
    "window",
    "timings_ms",
}
CITATION_KEYS = {
    "n",
    "source",
    "title",
    "url",
    "text",
    "score",
    "published",
    "source_name",
    "also_reported_by",
    "author",
}
# `newsqa add --json` and `newsqa feeds refresh --json`: the summary, each page and each feed in it.
WEB_JSON_KEYS = {"pages", "feeds", "pruned", "reindex"}
PAGE_KEYS = {"url", "status", "source", "canonical", "title", "published", "site", "words", "reason"}
FEED_KEYS = {"url", "title", "entries", "not_modified", "reason", "ok"}
_SETTING_VARS = {f.upper() for f in Settings.model_fields}
_databases = itertools.count(1)
_seeds: dict[tuple[str, str], object] = {}

# Run a test against the embedded store and against a real `chroma run` server.
BOTH_STORES = pytest.mark.parametrize(
    "store_mode", ["embedded", pytest.param("server", marks=pytest.mark.server)], indirect=True
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No newsqa variable leaks in from the developer's shell; the working dir is a temp dir."""
    for name in list(os.environ):
        if name in _SETTING_VARS or name == "IS_TESTING":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if (
        host is not None
        and host not in ("127.0.0.1", "::1", "localhost")
        and not str(host).startswith("127.")
    ):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any accidental outbound connection fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def _refuse(what: str) -> Callable[..., object]:
    def refuse(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"a test marked fast {what}: drop its mark (`make test-fast` must stay fast)")

    return refuse


@pytest.fixture(autouse=True)
def fast_tier_stays_fast(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked `fast` may not load the model, open Chroma or start a process."""
    if request.node.get_closest_marker("fast") is None:
        return
    monkeypatch.setattr(subprocess, "Popen", _refuse("started a process"))
    monkeypatch.setattr("newsqa.index.store.chroma.ChromaStore._connect", _refuse("opened Chroma"))
    monkeypatch.setattr("newsqa.index.retrieval.minilm.MiniLMEmbedding.load", _refuse("loaded the model"))


@pytest.fixture(scope="session")
def embedder() -> object:
    """The real bundled model, loaded once."""
    from newsqa.index.retrieval.registry import make_embedder

    return make_embedder("minilm")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the bundled seed corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real Chroma server for the session, started the first time a test needs it."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def store_mode(request: pytest.FixtureRequest) -> str:
    """ "embedded" unless a test is parametrized with BOTH_STORES."""
    return str(getattr(request, "param", "embedded"))


def _store_settings(request: pytest.FixtureRequest, mode: str) -> dict[str, object]:
    """Settings for the store: a fresh database of the shared server keeps tests apart."""
    if mode == "embedded":
        return {}
    server: ChromaServer = request.getfixturevalue("chroma_server")
    return {**server.settings, "chroma_database": f"test{next(_databases)}"}


@pytest.fixture
def make_qa(
    tmp_path: Path, embedder: object, store_mode: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., object]]:
    """Build a QA over a corpus folder with its own index folder (or server database)."""
    from newsqa.index.service import QA

    made: list[QA] = []
    store = _store_settings(request, store_mode)

    def build(corpus_dir: Path, index_dir: Path | None = None, **overrides: object) -> QA:
        settings = Settings(
            corpus_dir=corpus_dir, index_dir=index_dir or tmp_path / "index", **{**store, **overrides}
        )
        qa = QA(settings, embedder=embedder)
        made.append(qa)
        return qa

    yield build
    for qa in made:
        qa.close()


@pytest.fixture(scope="module")
def seed_qa(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: object,
    store_mode: str,
    request: pytest.FixtureRequest,
) -> object:
    """A QA over the seed corpus, indexed once per test module and store mode."""
    from newsqa.index.service import QA

    key = (request.module.__name__, store_mode)
    if key not in _seeds:  # pytest re-runs this fixture whenever store_mode's parameter changes
        base = tmp_path_factory.mktemp("seed")
        shutil.copytree(SEED_CORPUS, base / "corpus")
        settings = Settings(
            corpus_dir=base / "corpus", index_dir=base / "index", **_store_settings(request, store_mode)
        )
        _seeds[key] = qa = QA(settings, embedder=embedder)
        qa.reindex()
    return _seeds[key]


def cli_in(base: Path, *args: str, stdin: str | None = None) -> Any:
    """`newsqa ARGS` in-process over base/corpus and base/index, without .env; click's Result."""
    from click.testing import CliRunner

    from newsqa.bot.cli import main

    options = ["--corpus", str(base / "corpus"), "--index-dir", str(base / "index"), "--env-file", os.devnull]
    return CliRunner().invoke(main, [*args, *options], input=stdin, catch_exceptions=False)


def indexed_copy(make_qa: Callable[..., Any], tmp_path: Path, corpus: Path) -> tuple[Any, Any]:
    """A QA over a copy of `corpus` in tmp_path/corpus, indexed; and its index state."""
    local = tmp_path / "corpus"
    shutil.copytree(corpus, local)
    qa = make_qa(local)
    qa.reindex()
    return qa, qa.store.read_state()


def indexed_seed(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder with a copy of the seed corpus, indexed through the CLI."""
    base = tmp_path_factory.mktemp(name)
    shutil.copytree(SEED_CORPUS, base / "corpus")
    assert cli_in(base, "index").exit_code == 0
    return base


@pytest.fixture
def news_site() -> Iterator[object]:
    """A news site on 127.0.0.1 (tests/web_server.py): feeds, pages in heavy chrome, bad pages."""
    from .web_server import NewsSite

    with NewsSite() as site:
        yield site


@pytest.fixture
def emulator() -> Iterator[object]:
    """A Bot API emulator on 127.0.0.1 for one test (tests/botapi_emulator.py)."""
    from .botapi_emulator import BotApiEmulator

    with BotApiEmulator() as emu:
        yield emu
