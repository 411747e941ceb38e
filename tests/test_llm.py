"""LLM answers against the OpenAI-compatible test double: verification, every fallback, the CLI."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main
from newsqa.index.answering.followup import resolve
from newsqa.index.answering.referents import Turn
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError
from newsqa.index.service import QA
from tests.conftest import JSON_KEYS
from tests.llm_double import LLMTestDouble, Reply, cited, prompt_of

QUESTION = "How many US troops are in Iraq?"
FIGURE = "roughly 2,500"  # the extractive answer's sentence; the double cites the source holding it
GOOD = "Roughly 2,500 U.S. troops are stationed in Iraq [{a}], where they advise and train Iraqi forces."
KEY = "sk-test-double-secret-0123456789"
# Read at import, before the isolated_env fixture clears newsqa's variables.
REAL_LLM = {k: os.environ.get(k, "") for k in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY", "LLM_TIMEOUT_S")}


@pytest.fixture(scope="module")
def double() -> Iterator[LLMTestDouble]:
    with LLMTestDouble() as server:
        yield server


@pytest.fixture
def llm(double: LLMTestDouble) -> LLMTestDouble:
    double.replies.clear()
    double.requests.clear()
    double.headers.clear()
    return double


@pytest.fixture(scope="module")
def llm_qa(seed_qa: QA, double: LLMTestDouble) -> Iterator[QA]:
    """The seed index, answered through the test double."""
    settings = seed_qa.settings.replace(
        llm_base_url=double.base_url, llm_model="double", llm_api_key=KEY, llm_timeout_s=1.0
    )
    qa = QA(settings, embedder=seed_qa.embedder)
    yield qa
    qa.close()


def _load(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        return Settings.load(env_file=None)
    finally:
        for name in env:
            monkeypatch.delenv(name)


@pytest.mark.fast
def test_llm_settings_are_validated_and_the_key_never_shown(monkeypatch):
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, {"LLM_BASE_URL": "localhost:11434", "LLM_TIMEOUT_S": "0"})
    problems = " ".join(caught.value.problems)
    assert "LLM_MODEL is not set" in problems and "http://" in problems and "LLM_TIMEOUT_S" in problems
    with pytest.raises(ConfigError, match="LLM_BASE_URL is not set"):
        _load(monkeypatch, {"LLM_MODEL": "llama3.2"})
    settings = _load(
        monkeypatch,
        {
            "LLM_BASE_URL": "http://127.0.0.1:11434/v1",
            "LLM_MODEL": "llama3.2",
            "LLM_API_KEY": KEY,
            "LLM_TIMEOUT_S": "7.5",
        },
    )
    assert settings.llm_enabled and settings.llm_timeout_s == 7.5 and KEY not in repr(settings)
    assert not Settings().llm_enabled


def test_good_cited_answer_is_verified_and_kept(llm_qa, llm):
    llm.script(cited(GOOD, a=FIGURE))
    answer = llm_qa.ask(QUESTION)
    assert answer.mode == "llm" and answer.verified and not answer.abstained
    assert answer.answer == (
        "Roughly 2,500 U.S. troops are stationed in Iraq, where they advise and train Iraqi forces. [1]"
    )
    assert [c.n for c in answer.citations] == [1] and FIGURE in answer.citations[0].text
    assert answer.quotes[0].startswith("Presently, there are roughly 2,500")
    assert set(answer.to_json()) == JSON_KEYS
    assert "llm" in answer.timings_ms and answer.timings_ms["total"] >= answer.timings_ms["llm"]
    [request] = llm.requests
    prompt = prompt_of(request)
    assert request["model"] == "double" and QUESTION in prompt
    assert "\n[1] " in prompt and "\n[2] " in prompt and "Question: " + QUESTION in prompt
    assert llm.headers[0]["Authorization"] == f"Bearer {KEY}"


def test_citations_are_renumbered_in_order_of_use(llm_qa, llm):
    llm.script(
        cited(
            "Talks at a security summit in Washington concern the future of the troops [{b}]. "
            "Roughly 2,500 U.S. troops are stationed in Iraq [{a}].",
            a=FIGURE,
            b="approximately 2,500 US troops",
        )
    )
    answer = llm_qa.ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.answer.endswith("Roughly 2,500 U.S. troops are stationed in Iraq. [2]")
    assert [c.n for c in answer.citations] == [1, 2] and FIGURE in answer.citations[1].text


def test_sentence_with_a_hallucinated_number_is_dropped(llm_qa, llm, caplog):
    caplog.set_level(logging.INFO, "newsqa.index")
    llm.script(cited(GOOD + " About 4,000 more troops are expected next year [{a}].", a=FIGURE))
    answer = llm_qa.ask(QUESTION)
    assert answer.mode == "llm" and not answer.verified
    assert "4,000" not in answer.answer and "2,500" in answer.answer
    assert "the number 4000 is not in the cited source" in caplog.text


@pytest.mark.parametrize(
    "reply",
    [
        cited("About 3,100 U.S. troops are stationed in Iraq [{a}].", a=FIGURE),  # hallucinated figure
        Reply("Roughly 2,500 U.S. troops are stationed in Iraq [9]."),  # a source that was not given
        Reply("Roughly 2,500 U.S. troops are stationed in Iraq."),  # no citation
        Reply("NOT IN SOURCES"),
        cited("General Tommy Franks commands the 2,500 troops stationed in Iraq [{a}].", a=FIGURE),  # a name
        Reply(body=b'{"choices": [{"message": '),  # malformed JSON
        Reply(body=b'{"object": "error"}'),  # JSON that is not a completion
        Reply(status=500, body=b'{"error": {"message": "model crashed"}}'),
        Reply(
            status=401, body=json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}).encode()
        ),
        Reply(""),  # empty content
    ],
    ids=[
        "number",
        "unknown-source",
        "no-citation",
        "refusal",
        "name",
        "malformed-json",
        "not-a-completion",
        "http-500",
        "http-401",
        "empty",
    ],
)
def test_unverifiable_or_failed_llm_answer_falls_back_to_the_extractive_one(
    llm_qa, seed_qa, llm, reply, caplog
):
    caplog.set_level(logging.DEBUG)
    llm.script(reply)
    answer = llm_qa.ask(QUESTION)
    extractive = seed_qa.ask(QUESTION)
    assert answer.mode == "llm-fallback" and not answer.verified
    assert answer.answer == extractive.answer and answer.citations == extractive.citations
    assert "answering extractively" in caplog.text and KEY not in caplog.text
    assert len(llm.requests) == 1  # no retries


@pytest.mark.timeout(30)  # were LLM_TIMEOUT_S (1 s) not applied, ask() would wait for the reply
def test_timeout_falls_back_within_the_timeout(llm_qa, seed_qa, llm, caplog):
    llm.script(Reply(GOOD, delay_s=120))
    answer = llm_qa.ask(QUESTION)
    assert len(llm.requests) == 1  # asked once, then gave up: no retry
    assert answer.mode == "llm-fallback" and answer.answer == seed_qa.ask(QUESTION).answer
    assert "timed out" in caplog.text and KEY not in caplog.text


def test_unanswerable_question_never_reaches_the_llm(llm_qa, llm):
    answer = llm_qa.ask("What is the capital of Peru?")
    assert answer.abstained and answer.mode == "extractive" and not llm.requests


def test_long_llm_answer_is_cut_to_500_characters_at_a_sentence(llm_qa, llm):
    sentence = (
        "Roughly 2,500 U.S. troops are stationed in Iraq, where they advise and train Iraqi forces [{a}]. "
    )
    llm.script(cited(sentence * 8, a=FIGURE))
    answer = llm_qa.ask(QUESTION)
    assert answer.mode == "llm" and len(answer.answer) <= 500 and answer.answer.endswith("[1]")


def test_top_k_bounds_the_sources_an_llm_answer_cites(llm_qa, llm):
    llm.script(
        cited(
            "Roughly 2,500 U.S. troops are stationed in Iraq [{a}]. Talks in Washington concern "
            "approximately 2,500 US troops [{b}].",
            a=FIGURE,
            b="approximately 2,500 US troops",
        )
    )
    answer = llm_qa.ask(QUESTION, k=1)
    assert len(answer.citations) == 1 and "[2]" not in answer.answer


def test_stream_yields_only_verified_text_then_the_answer(llm_qa, llm):
    llm.script(
        cited(GOOD + " Some 9,000 contractors also remain [{a}]. They train Iraqi forces [{a}].", a=FIGURE)
    )
    items = list(llm_qa.ask_stream(QUESTION))
    *partials, final = items
    assert partials and all(isinstance(p, str) and "9,000" not in p for p in partials)
    assert final.mode == "llm" and final.answer.startswith(partials[0].split(" [1]")[0])
    assert final.answer.endswith("They train Iraqi forces. [1]") and "9,000" not in final.answer
    assert llm.requests[0]["stream"] is True


def test_stream_failure_falls_back(llm_qa, seed_qa, llm):
    llm.script(Reply(status=500, body=b"{}"))
    *partials, final = llm_qa.ask_stream(QUESTION)
    assert not partials and final.mode == "llm-fallback" and final.answer == seed_qa.ask(QUESTION).answer


def test_stream_without_an_llm_is_just_the_answer(seed_qa):
    [answer] = list(seed_qa.ask_stream(QUESTION))
    assert answer.mode == "extractive" and "2,500" in answer.answer


def test_follow_up_is_condensed_by_the_llm_from_the_recent_turns(llm_qa, llm):
    llm.script(
        cited(GOOD, a=FIGURE),
        Reply("Standalone question: What are the US troops in Iraq tasked with?\n"),
        cited("They are tasked with advising and training Iraqi forces [{a}].", a="tasked with advising"),
    )
    llm_qa.ask(QUESTION, chat_id="c1")
    answer = llm_qa.ask("what do they do there?", chat_id="c1")
    condense = prompt_of(llm.requests[1])
    assert "what do they do there?" in condense and QUESTION in condense and "stationed in Iraq" in condense
    assert "Question: What are the US troops in Iraq tasked with?" in prompt_of(llm.requests[2])
    assert answer.question == "what do they do there?" and answer.mode == "llm"
    assert answer.answer == "They are tasked with advising and training Iraqi forces. [1]"
    assert "condense" in answer.timings_ms


def test_failed_condense_falls_back_to_the_rule_based_follow_up(llm_qa, seed_qa, llm, caplog):
    llm.script(cited(GOOD, a=FIGURE), Reply(status=500, body=b"{}"), Reply(status=500, body=b"{}"))
    llm_qa.ask(QUESTION, chat_id="c2")
    answer = llm_qa.ask("and what is their role?", chat_id="c2")
    rule_based = resolve("and what is their role?", [Turn(QUESTION, "", 0.0)])
    assert rule_based == "What is US troops' role?"
    assert f"Question: {rule_based}\n" in prompt_of(llm.requests[2])
    assert answer.resolved_question == rule_based
    assert answer.mode == "llm-fallback" and "condense failed" in caplog.text


def test_cli_ask_uses_the_llm_from_the_environment_and_keeps_the_json_contract(
    seed_qa, llm, monkeypatch, caplog
):
    monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
    monkeypatch.setenv("LLM_MODEL", "double")
    monkeypatch.setenv("LLM_API_KEY", KEY)
    args = ["--corpus", str(seed_qa.settings.corpus_dir), "--index-dir", str(seed_qa.settings.index_dir)]
    llm.script(cited(GOOD, a=FIGURE), Reply(status=500, body=b"{}"))
    runner = CliRunner()
    good = runner.invoke(main, ["ask", QUESTION, "--json", *args], catch_exceptions=False)
    failed = runner.invoke(main, ["ask", QUESTION, "--json", "-v", *args], catch_exceptions=False)
    assert good.exit_code == failed.exit_code == 0, good.output + failed.output
    data, fallback = json.loads(good.stdout), json.loads(failed.stdout)
    assert set(data) == set(fallback) == JSON_KEYS
    assert data["answer"].startswith("Roughly 2,500 U.S. troops") and "llm" in data["timings_ms"]
    assert (
        fallback["answer"].startswith("2,500 [1]")
        and "“Presently, there are roughly 2,500" in fallback["answer"]
    )
    assert "answering extractively" in caplog.text and KEY not in caplog.text + failed.output


def test_eval_llm_reports_the_share_of_verified_answers(seed_qa, llm, monkeypatch, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"q": QUESTION, "answers": ["2,500"], "evidence": ["2,500"]},
        {"q": "How many U.S. troops are stationed in Iraq?", "answers": ["2,500"]},
        {"q": "What is the capital of Peru?", "unanswerable": True},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
    monkeypatch.setenv("LLM_MODEL", "double")
    args = ["--corpus", str(seed_qa.settings.corpus_dir), "--index-dir", str(seed_qa.settings.index_dir)]
    llm.script(cited(GOOD, a=FIGURE), Reply("Roughly 2,500 U.S. troops are stationed in Iraq [8]."))
    result = CliRunner().invoke(
        main, ["eval", str(questions), "--json", "--llm", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["llm_asked"] == 2 and report["llm_fallbacks"] == 1
    assert report["llm_answers"] == report["citations_verified"] == 0.5
    assert report["answer_accuracy"] == 1.0 and report["abstention_recall"] == 1.0
    plain = CliRunner().invoke(main, ["eval", str(questions), "--json", *args], catch_exceptions=False)
    assert "citations_verified" not in json.loads(plain.stdout) and len(llm.requests) == 2
    monkeypatch.delenv("LLM_BASE_URL")
    monkeypatch.delenv("LLM_MODEL")
    refused = CliRunner().invoke(main, ["eval", str(questions), "--llm", *args])
    assert refused.exit_code == 2 and "--llm needs LLM_BASE_URL and LLM_MODEL" in refused.output


@pytest.mark.skipif(
    not REAL_LLM["LLM_BASE_URL"], reason="set LLM_BASE_URL (and LLM_MODEL) to test a real LLM server"
)
def test_real_llm_server_answers_or_falls_back(seed_qa, monkeypatch):
    from tests.conftest import _real_connect

    monkeypatch.setattr("socket.socket.connect", _real_connect)
    real = _load(monkeypatch, {name: value for name, value in REAL_LLM.items() if value})
    llm_fields = ("llm_base_url", "llm_model", "llm_api_key", "llm_timeout_s")
    qa = QA(seed_qa.settings.replace(**{f: getattr(real, f) for f in llm_fields}), embedder=seed_qa.embedder)
    answer = qa.ask(QUESTION)
    assert answer.mode in ("llm", "llm-fallback") and ("2,500" in answer.answer or "2500" in answer.answer)
    assert len(answer.answer) <= 500


@pytest.mark.fast
def test_verification_unit_cases():
    from newsqa.index.llm.verify import verify
    from newsqa.index.text.numbers import numbers

    spelt = "three ferries, 2,500 troops and hundreds of 4.0 boats"
    assert numbers(spelt, quantities_only=False, as_digits=True) == {"3", "2500", "hundred", "4"}
    sources = {
        1: "Ferries\nThe Zanzibar Ferry Company said three new ferries will join in March.",
        2: "Tugs\nTwo tugboats will join the fleet, officials said.",
    }
    kept = verify(
        "Three new ferries will join in March [1, 2]. Two tugboats join too [2]. "
        "The Pemba ferry line closes [1].",
        sources,
    )
    assert kept.text == "Three new ferries will join in March. [1] [2] Two tugboats join too. [2]"
    assert kept.cited == [1, 2] and [why for _, why in kept.dropped] == [
        "the name 'pemba' is not in the cited source"
    ]
    assert (
        verify("Officials said so [2]. Ferries join [1].", sources, max_sources=1).text
        == "Officials said so. [1]"
    )
    assert not verify("The company expects large profits from tourism this year [1].", sources).kept
