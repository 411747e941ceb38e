"""A remote OpenAI-compatible embedder (EMBED_MODEL=openai:…) against a real HTTP server on 127.0.0.1:
batches in flight, order kept, retries on 429/5xx honouring Retry-After, errors without the key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import newsqa.index.retrieval.external as external
from newsqa.index.config import Settings
from newsqa.index.errors import EmbeddingError, ReindexError
from newsqa.index.retrieval.external import OpenAICompatibleEmbedding, _retry_after
from newsqa.index.retrieval.registry import make_embedder
from tests.embeddings_double import EmbeddingsDouble, Fault, vector_of

SECRET = "sk-remote-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def double() -> Iterator[EmbeddingsDouble]:
    with EmbeddingsDouble().serving() as served:
        yield served


def remote(
    double: EmbeddingsDouble, request: pytest.FixtureRequest, **fields: object
) -> OpenAICompatibleEmbedding:
    embedder = make_embedder("openai:test-embed", base_url=double.url, api_key=SECRET)
    assert isinstance(embedder, OpenAICompatibleEmbedding)
    request.addfinalizer(embedder.close)
    for name, value in fields.items():
        setattr(embedder, name, value)
    return embedder


def texts_of_mixed_lengths(n: int) -> list[str]:
    return [f"story {i} " + "about the harbour strike " * (i * 7 % 5) for i in range(n)]


@pytest.mark.fast
def test_batches_are_in_flight_together_and_vectors_keep_input_order(
    double: EmbeddingsDouble, request: pytest.FixtureRequest
) -> None:
    double.delay_s = 0.2
    embedder = remote(double, request, batch_size=4, concurrency=4)
    texts = texts_of_mixed_lengths(40)
    seen: list[tuple[int, int]] = []
    vectors = embedder.embed_documents(texts, progress=lambda done, total: seen.append((done, total)))
    assert vectors == [vector_of(t) for t in texts]
    assert len(double.requests) == 10
    assert double.max_in_flight == 4
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (40, 40) and len(seen) == 10
    assert all(r["auth"] == f"Bearer {SECRET}" for r in double.requests)


@pytest.mark.fast
def test_concurrency_one_sends_one_batch_at_a_time(
    double: EmbeddingsDouble, request: pytest.FixtureRequest
) -> None:
    double.delay_s = 0.05
    embedder = remote(double, request, batch_size=4, concurrency=1)
    texts = texts_of_mixed_lengths(12)
    assert embedder.embed_documents(texts) == [vector_of(t) for t in texts]
    assert double.max_in_flight == 1 and len(double.requests) == 3


def test_429_with_retry_after_and_a_500_are_tried_again(
    double: EmbeddingsDouble, request: pytest.FixtureRequest
) -> None:
    double.faults = [Fault(429, retry_after="1"), Fault(500)]
    embedder = remote(double, request, backoff_s=0.01)
    texts = ["flood warning", "ferry strike ends", "rates held"]
    assert embedder.embed_documents(texts) == [vector_of(t) for t in texts]
    assert [r["status"] for r in double.requests] == [429, 500, 200]
    waited = double.requests[1]["at"] - double.requests[0]["at"]
    assert waited >= 0.9  # the server asked for 1 s


@pytest.mark.fast
def test_retry_after_is_bounded(
    double: EmbeddingsDouble, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(external, "MAX_WAIT_S", 0.05)
    double.faults = [Fault(503, retry_after="86400")]
    embedder = remote(double, request)
    assert embedder.get_text_embedding("x") == vector_of("x")
    assert [r["status"] for r in double.requests] == [503, 200]


@pytest.mark.fast
def test_giving_up_names_the_url_and_tries_but_never_the_key(
    double: EmbeddingsDouble, request: pytest.FixtureRequest
) -> None:
    double.faults = [Fault(502)] * 3
    embedder = remote(double, request, retries=2, backoff_s=0.01)
    with pytest.raises(EmbeddingError, match=r"HTTP 502.*gave up after 3 tries") as caught:
        embedder.get_text_embedding("x")
    assert double.url + "/embeddings" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert len(double.requests) == 3


@pytest.mark.fast
def test_a_client_error_is_not_retried_and_stops_the_other_batches(
    double: EmbeddingsDouble, request: pytest.FixtureRequest
) -> None:
    double.delay_s = 0.05
    double.faults = [Fault(400)]
    embedder = remote(double, request, batch_size=2, concurrency=2)
    with pytest.raises(EmbeddingError, match="HTTP 400"):
        embedder.embed_documents(texts_of_mixed_lengths(60))
    assert len(double.requests) < 30  # the batches not yet sent were cancelled
    assert double.requests[0]["status"] == 400


@pytest.mark.fast
def test_credentials_in_the_base_url_are_masked_in_errors(request: pytest.FixtureRequest) -> None:
    embedder = make_embedder("openai:m", base_url="http://user:hunter2@127.0.0.1:9/v1", api_key=SECRET)
    request.addfinalizer(embedder.close)
    embedder.retries = 0
    with pytest.raises(EmbeddingError, match=r"http://\*\*\*@127\.0\.0\.1:9/v1/embeddings") as caught:
        embedder.get_text_embedding("x")
    assert "hunter2" not in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.fast
def test_retry_after_header_forms() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after("-5") == 0.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert 50 < (_retry_after(_http_date_in(60)) or 0) <= 61


@pytest.mark.fast
def test_embed_concurrency_setting_is_checked_and_reaches_the_embedder(tmp_path: Path) -> None:
    from newsqa.index.errors import ConfigError
    from newsqa.index.service import QA

    with pytest.raises(ConfigError, match="EMBED_CONCURRENCY must be between 1 and 64, got 0"):
        Settings(embed_concurrency=0)
    settings = Settings(
        index_dir=tmp_path,
        embed_model="openai:m",
        embed_base_url="http://127.0.0.1:9/v1",
        embed_concurrency=8,
    )
    embedder = QA(settings).embedder
    assert embedder.concurrency == 8 and embedder.embed_batch_size >= 8 * embedder.batch_size
    embedder.close()


def test_reindex_through_a_flaky_remote_embedder_keeps_every_chunk(
    double: EmbeddingsDouble, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from newsqa.index.service import QA

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    double.delay_s = 0.1  # long enough for requests to overlap on a loaded machine
    double.faults = [Fault(429, retry_after="0"), Fault(503)]
    embedder = remote(double, request, batch_size=4, concurrency=4, backoff_s=0.01)
    qa = QA(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=embedder)
    reports: list[int] = []
    summary = qa.reindex(progress=lambda p: reports.append(p.done) if p.stage == "embedding" else None)
    sent = [text for r in double.requests if r["status"] == 200 for text in r["input"]]
    assert summary.embedded == summary.chunks == len(sent) > 8
    assert reports[-1] == summary.chunks
    assert double.max_in_flight > 1
    assert qa.ask("How many US troops are in Iraq?").citations  # BM25 still finds it

    double.faults = [Fault(401)]
    (corpus / "new.txt").write_text("Flood warning\n\nThe river rose overnight in the valley.\n")
    with pytest.raises(ReindexError, match=r"previous index keeps serving.*HTTP 401") as caught:
        qa.reindex()
    assert SECRET not in str(caught.value)


def _http_date_in(seconds: float) -> str:
    import time
    from email.utils import formatdate

    return formatdate(time.time() + seconds, usegmt=True)
