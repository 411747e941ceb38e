"""Follow-ups through the service, over the real index: what they are read as, and what is answered."""

from __future__ import annotations

import time

from newsqa.index.service import QA


def test_pronoun_is_read_as_the_person_the_conversation_named(seed_qa: QA):
    seed_qa.ask("Who is Lloyd Austin?", chat_id="p1")
    answer = seed_qa.ask("what did he say about the transition?", chat_id="p1")
    assert answer.question == "what did he say about the transition?"
    assert answer.resolved_question == "What did Lloyd Austin say about the transition?"
    assert "capabilities of the Iraqi defense forces" in answer.answer
    assert answer.to_json()["resolved_question"] == answer.resolved_question
    # Without the conversation, "he" is whoever the articles quote most: not Austin.
    alone = seed_qa.ask("what did he say about the transition?", chat_id="p2")
    assert alone.resolved_question is None and "capabilities" not in alone.answer


def test_ellipsis_naming_a_place_the_articles_do_not_cover_is_abstained(seed_qa: QA):
    assert "2,500" in seed_qa.ask("how many us troops are in iraq", chat_id="e1").answer
    answer = seed_qa.ask("what about france?", chat_id="e1")
    assert answer.resolved_question == "How many US troops are in France?"
    assert answer.abstained


def test_the_year_before_is_not_answered_with_this_year_s_figure(seed_qa: QA):
    first = seed_qa.ask("How many attacks were launched in the fall of 2023?", chat_id="y1")
    assert "60 attacks" in first.answer
    answer = seed_qa.ask("and the year before?", chat_id="y1")
    assert answer.resolved_question == "How many attacks were launched in 2022?"
    assert answer.abstained  # no article speaks of 2022; asked on its own, 2023's figure is the best there is
    assert "60 attacks" in seed_qa.ask("How many attacks were launched in 2022?").answer


def test_ellipsis_and_subjectless_follow_ups_chain(seed_qa: QA):
    seed_qa.ask("Who is Qasem Soleimani?", chat_id="s1")
    where = seed_qa.ask("where was he killed", chat_id="s1")
    assert (
        where.resolved_question == "Where was Qasem Soleimani killed?" and "Baghdad airport" in where.answer
    )
    when = seed_qa.ask("when?", chat_id="s1")
    assert when.resolved_question == "When was Qasem Soleimani killed?" and "2020" in when.answer


def test_a_new_topic_is_answered_as_asked_and_drops_the_old_one(seed_qa: QA):
    seed_qa.ask("Who is Lloyd Austin?", chat_id="t1")
    topic = seed_qa.ask("What happened after the Obama-era withdrawal?", chat_id="t1")
    assert topic.resolved_question is None and "power vacuum" in topic.answer
    assert seed_qa.ask("what did he say about the transition?", chat_id="t1").resolved_question is None


def test_new_conversation_forgets_the_context(seed_qa: QA):
    seed_qa.ask("how many us troops are in iraq", chat_id="n1")
    seed_qa.new_conversation("n1")
    assert seed_qa.ask("and in germany?", chat_id="n1").resolved_question is None


def test_context_expires_after_the_idle_time_and_can_be_turned_off(seed_qa: QA, make_qa):
    same_index = {"corpus_dir": seed_qa.settings.corpus_dir, "index_dir": seed_qa.settings.index_dir}
    brief: QA = make_qa(**same_index, context_idle_s=1)
    brief.ask("how many us troops are in iraq", chat_id="i1")
    assert (
        brief.ask("and in germany?", chat_id="i1").resolved_question == "How many US troops are in Germany?"
    )
    time.sleep(1.2)
    assert brief.ask("and in syria?", chat_id="i1").resolved_question is None
    off: QA = make_qa(**same_index, context_turns=0)
    off.ask("how many us troops are in iraq", chat_id="i2")
    assert off.ask("and in germany?", chat_id="i2").resolved_question is None
