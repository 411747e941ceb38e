from __future__ import annotations

import pytest

from newsqa.index.service import QA

from .conftest import BOTH_STORES, CITATION_KEYS, JSON_KEYS


@BOTH_STORES
def test_troops_in_iraq_is_answered_with_2500_and_every_agreeing_source_cited(seed_qa: QA):
    answer = seed_qa.ask("How many US troops are in Iraq?")
    assert not answer.abstained
    assert "2,500" in answer.answer
    assert "[1]" in answer.answer
    sources = {c.source for c in answer.citations}
    assert len(sources) >= 2  # several articles state the figure
    assert all(f"[{c.n}]" in answer.answer for c in answer.citations)
    assert any("2,500" in c.text for c in answer.citations)


@BOTH_STORES
@pytest.mark.parametrize(
    "question",
    [
        "How many US troops are in Germany?",
        "What is the capital of France?",
        "How many troops does the UK have in Estonia?",
        "What is the best recipe for chocolate cake?",
        # Names the corpus knows, questions it does not answer: no borrowed figure, no guess.
        "How many troops does Russia have in Syria?",
        "How many US troops are in Syria?",
        "How many Iraqi soldiers died in 2024?",
        "What is the population of Iraq?",
        "What did Lavrentyev say about Turkey?",
        "Who won the Iraqi election?",
    ],
)
def test_questions_the_corpus_does_not_answer_are_abstained(seed_qa: QA, question: str):
    answer = seed_qa.ask(question)
    assert answer.abstained
    assert answer.answer == ""
    assert answer.citations == []


def test_json_contract_has_exactly_the_documented_keys(seed_qa: QA):
    data = seed_qa.ask(
        "Who is the Russian president's special representative for the Syrian settlement?"
    ).to_json()
    assert set(data) == JSON_KEYS
    assert "Lavrentyev" in data["answer"]
    assert len(data["answer"]) <= 500
    assert data["citations"]
    for citation in data["citations"]:
        assert set(citation) == CITATION_KEYS
        assert citation["source"].endswith(".txt") and "/" not in citation["source"]
        assert citation["url"] is None  # seed files carry no URL
        assert citation["published"] is None and citation["source_name"] is None  # nor a date or outlet
        assert isinstance(citation["score"], float)
    assert data["timings_ms"]["total"] > 0


def test_boilerplate_is_never_cited(seed_qa: QA):
    for question in [
        "No time to read? Get a summary",
        "Previous Article Next Article",
        "More from Around the Web",
    ]:
        answer = seed_qa.ask(question)
        for citation in answer.citations:
            for junk in ("No time to read", "Get a summary", "Previous Article", "More from Around the Web"):
                assert junk not in citation.text


def test_follow_up_is_read_in_the_context_of_the_previous_question(seed_qa: QA):
    first = seed_qa.ask("When does Iraq want the withdrawal timetable to start?", chat_id="c1")
    assert "September" in first.answer
    follow = seed_qa.ask("and to conclude?", chat_id="c1")
    assert follow.question == "and to conclude?"
    assert "September 2025" in follow.answer
    # Another chat has no previous question: the same words mean something else there.
    assert seed_qa.ask("and to conclude?", chat_id="c2").answer != follow.answer


def test_follow_up_keeps_abstaining_when_the_new_subject_is_not_covered(seed_qa: QA):
    assert "2,500" in seed_qa.ask("How many US troops are in Iraq?", chat_id="c3").answer
    assert seed_qa.ask("and in Germany?", chat_id="c3").abstained  # not Iraq's figure


def test_top_k_limits_the_citations(seed_qa: QA):
    assert len(seed_qa.ask("How many US troops are in Iraq?", k=1).citations) == 1


def test_answer_keeps_the_ranked_retrieved_passages_out_of_its_json(seed_qa: QA):
    answer = seed_qa.ask("How many US troops are in Iraq?", k=1)
    assert len(answer.retrieved) > len(answer.citations) == 1
    scores = [p.score for p in answer.retrieved]
    assert scores == sorted(scores, reverse=True)
    assert answer.citations[0].source in {p.chunk.source for p in answer.retrieved}
    assert "retrieved" not in answer.to_json()
