"""Server mode against a real `chroma run`: shared index across processes, the lease, outages."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsqa.bot.cli import main
from newsqa.index.config import Settings
from newsqa.index.errors import ReindexBusyError, StoreUnavailableError
from newsqa.index.service import QA
from newsqa.index.store import lease as lease_module
from newsqa.index.store import live
from newsqa.index.store.chroma import ChromaStore
from newsqa.index.store.lease import ReindexLease

from .chroma_server import ChromaServer
from .conftest import SEED_CORPUS

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]
IRAQ = "How many US troops are in Iraq?"
KUWAIT = "How many US troops are in Kuwait?"


@pytest.fixture
def settings(chroma_server: ChromaServer, tmp_path: Path, request) -> Settings:
    """Settings for a fresh database of the session's server, over a one-article corpus."""
    name = "".join(c for c in request.node.name if c.isalnum())[-40:]
    corpus = tmp_path / "tiny"
    corpus.mkdir()
    (corpus / "oman.txt").write_text("Oman port\n\nThe port of Duqm opened a new pier.\n", encoding="utf-8")
    return Settings(
        corpus_dir=corpus, index_dir=tmp_path / "unused", chroma_database=name, **chroma_server.settings
    )


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[ChromaServer, Settings]]:
    """A server of this module's own, which tests may stop, with the seed corpus indexed."""
    base = tmp_path_factory.mktemp("outage")
    shutil.copytree(SEED_CORPUS, base / "corpus")
    server = ChromaServer(base / "data").start()
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "unused", **server.settings)
    QA(settings, embedder=embedder).reindex()
    yield server, settings
    server.stop()


def _kuwait(corpus: Path) -> None:
    (corpus / "kuwait.txt").write_text(
        "Kuwait base expands\n\nAbout 13,500 US troops are in Kuwait, officials said.\n", encoding="utf-8"
    )


def test_reindex_through_one_instance_is_seen_by_another_without_restart(
    settings, corpus, embedder, monkeypatch
):
    monkeypatch.setattr(live, "STATE_CHECK_S", 0.0)
    settings = settings.with_overrides(corpus_dir=corpus)
    writer, reader = QA(settings, embedder=embedder), QA(settings, embedder=embedder)
    writer.reindex()
    assert "2,500" in reader.ask(IRAQ).answer
    assert reader.ask(KUWAIT).abstained
    _kuwait(settings.corpus_dir)
    summary = writer.reindex()
    assert summary.added == 1
    assert "13,500" in reader.ask(KUWAIT).answer
    assert reader.stats()["generation"] == summary.generation
    assert reader.stats()["store"] == "chroma-server"
    assert "kuwait.txt" in {s["source"] for s in reader.sources()}


def test_databases_keep_deployments_apart(settings, embedder):
    QA(settings, embedder=embedder).reindex()
    other = QA(settings.with_overrides(chroma_database="elsewhere"), embedder=embedder)
    assert not other.has_index()
    assert "(database elsewhere)" in other.store.where


def test_a_reindex_elsewhere_holds_the_lease_and_reindex_waits_for_it(settings, embedder):
    qa = QA(settings, embedder=embedder)
    held = ReindexLease.take(ChromaStore(settings))
    with pytest.raises(ReindexBusyError, match="another process .* is reindexing"):
        qa.reindex()
    held.release()
    assert qa.reindex().added == 1
    assert qa.reindex().unchanged == 1  # released leases never block


def test_only_one_of_many_simultaneous_reindexes_gets_the_lease(settings):
    stores = [ChromaStore(settings) for _ in range(6)]
    won: list[ReindexLease] = []
    busy: list[ReindexBusyError] = []
    start = threading.Barrier(len(stores))

    def contend(store: ChromaStore) -> None:
        start.wait()
        try:
            won.append(ReindexLease.take(store))
        except ReindexBusyError as exc:
            busy.append(exc)

    threads = [threading.Thread(target=contend, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert (len(won), len(busy)) == (1, len(stores) - 1)
    won[0].check()
    won[0].release()


def test_a_stalled_reindex_loses_its_lease_and_switches_nothing(settings, embedder, monkeypatch):
    monkeypatch.setattr(lease_module, "TTL_S", 0.5)
    stalled = ReindexLease.take(ChromaStore(settings))
    stalled._stop.set()  # its renewals stop, as if the process froze
    time.sleep(0.7)
    assert QA(settings, embedder=embedder).reindex().added == 1  # took the expired lease over
    with pytest.raises(ReindexBusyError, match="lost its lease"):
        stalled.check()
    stalled.release()  # must not disturb the new holder's (released) lease


def test_unreachable_server_fails_clearly_and_recovers_without_a_new_service(outage, embedder):
    server, settings = outage
    running = QA(settings, embedder=embedder)
    assert "2,500" in running.ask(IRAQ).answer
    server.stop()
    where = f"127.0.0.1:{server.port}"
    try:
        with pytest.raises(StoreUnavailableError, match=where):
            running.index.recheck()  # re-read the state now, not within the second
            running.ask(IRAQ)
        started_while_down = QA(settings, embedder=embedder)
        with pytest.raises(StoreUnavailableError, match=f"{where}.*CHROMA_HOST"):
            started_while_down.ask(IRAQ)
        with pytest.raises(StoreUnavailableError):
            started_while_down.reindex()
    finally:
        server.start()
    assert "2,500" in running.ask(IRAQ).answer
    assert "2,500" in started_while_down.ask(IRAQ).answer
    assert started_while_down.reindex().unchanged == 5


@pytest.mark.timeout(90)  # without CHROMA_TIMEOUT_S both calls would wait for the paused server forever
def test_a_hung_server_fails_within_the_timeout_and_recovers(outage, embedder):
    server, settings = outage
    settings = settings.replace(chroma_timeout_s=2)
    running = QA(settings, embedder=embedder)
    assert "2,500" in running.ask(IRAQ).answer
    server.pause()
    try:
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{server.port}.*timed out"):
            running.index.recheck()  # re-read the state now, not within the second
            running.ask(IRAQ)
        with pytest.raises(StoreUnavailableError, match="CHROMA_TIMEOUT_S"):
            QA(settings, embedder=embedder).ask(IRAQ)  # connecting to the hung server
    finally:
        server.resume()
    assert "2,500" in running.ask(IRAQ).answer


def test_cli_index_and_ask_use_the_server(chroma_server, corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    flags = ["--corpus", str(corpus), "--chroma-host", "127.0.0.1", "--chroma-port", str(chroma_server.port)]
    monkeypatch.setenv("CHROMA_DATABASE", "cli")
    indexed = CliRunner().invoke(main, ["index", "--json", *flags], catch_exceptions=False)
    assert indexed.exit_code == 0, indexed.output
    assert '"added": 5' in indexed.stdout
    assert not (tmp_path / ".newsqa").exists()  # nothing embedded on this machine
    asked = CliRunner().invoke(main, ["ask", IRAQ, *flags], catch_exceptions=False)
    assert asked.exit_code == 0 and "2,500" in asked.stdout


def test_cli_reports_an_unreachable_server_in_one_line(corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from .chroma_server import free_port

    monkeypatch.chdir(tmp_path)
    port = free_port()
    result = CliRunner().invoke(
        main, ["index", "--corpus", str(corpus), "--chroma-host", "127.0.0.1", "--chroma-port", str(port)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach the Chroma server at 127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bot_replies_politely_while_the_server_is_down_and_recovers_by_itself(outage, embedder, tmp_path):
    from newsqa.bot.tgbot.app import build_application, serve

    from .botapi_emulator import TOKEN, BotApiEmulator, bot_thread

    server, indexed = outage
    qa = QA(indexed, embedder=embedder)
    with BotApiEmulator() as emulator:
        settings = indexed.with_overrides(
            telegram_bot_token=TOKEN,
            telegram_base_url=emulator.base_url,
            rate_limit_per_minute=0,
            feedback_log=tmp_path / "feedback.jsonl",
        )
        app = build_application(settings, qa=qa)
        with bot_thread(app, lambda: serve(app, settings, stop_signals=None)):
            server.stop()
            try:
                emulator.send(IRAQ, user=31)
                [sorry] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 31)
            finally:
                server.start()
            assert "unavailable" in sorry.params["text"] and "try again" in sorry.params["text"]
            emulator.send(IRAQ, user=31)
            replies = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 31, count=2)
            assert "2,500" in replies[1].params["text"]
