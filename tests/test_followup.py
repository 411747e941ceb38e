"""Reading follow-ups without an LLM: the rules of `followup.resolve` and the context `Conversations` keep."""

from __future__ import annotations

import pytest

from newsqa.index.answering import conversation
from newsqa.index.answering.conversation import Conversations
from newsqa.index.answering.followup import resolve
from newsqa.index.answering.referents import Turn

pytestmark = pytest.mark.fast


def alone(question: str) -> Turn:
    """A turn whose question was not answered: only the question gives the context."""
    return Turn(question, "", 0.0)


AUSTIN = Turn(
    "Who is Lloyd Austin?",
    "Defense Secretary Lloyd Austin has said that any transition will be determined by the capabilities of "
    "the Iraqi defense forces. [1]",
    0.0,
)
TROOPS = Turn(
    "how many us troops are in iraq",
    "Presently, there are roughly 2,500 U.S. troops stationed in Iraq. [1]",
    0.0,
)
ENVOY = Turn(
    "who is the russian president's special representative for the syrian settlement?",
    "This information, attributed to Alexander Lavrentyev, the Russian president’s special representative "
    "for the Syrian settlement, was reported by TASS. [1]",
    0.0,
)
TIMETABLE = Turn(
    "When does Iraq want the withdrawal timetable to start?",
    "Iraq is pushing for a withdrawal timetable to start in September, aiming to conclude the process by "
    "September 2025. [1]",
    0.0,
)
MOSUL = Turn(
    "When did ISIS take Mosul?",
    "It was precisely the brutal advance of this jihadist group in 2014. [1]",
    0.0,
)
TALKS = Turn(
    "Where did the US-Iraq security talks take place?",
    "The talks, part of a broader security summit in Washington, revolve around US troops. [1]",
    0.0,
)


@pytest.mark.parametrize(
    ("turn", "message", "expected"),
    [
        # pronouns: a person named in the question, or given by the answer
        (AUSTIN, "what did he say about the transition?", "What did Lloyd Austin say about the transition?"),
        (AUSTIN, "what is his condition for an exit?", "What is Lloyd Austin's condition for an exit?"),
        (ENVOY, "what did he say about syria?", "What did Alexander Lavrentyev say about Syria?"),
        # a group and a place; a thing; a date the answer gave; a place the answer gave
        (TROOPS, "what are they doing there?", "What are US troops doing in Iraq?"),
        (TIMETABLE, "and when should it end?", "When should the withdrawal timetable end?"),
        (MOSUL, "what did the US do then?", "What did the US do in 2014?"),
        (TALKS, "what was discussed there?", "What was discussed in Washington?"),
        (MOSUL, "how much territory did it control?", "How much territory did ISIS control?"),
        # ellipsis: a place, a person, a phrase after the same preposition, a year
        (TROOPS, "and in germany?", "How many US troops are in Germany?"),
        (TROOPS, "what about France", "How many US troops are in France?"),
        (AUSTIN, "and sean parnell?", "Who is Sean Parnell?"),
        (TIMETABLE, "and to conclude?", "When does Iraq want the withdrawal timetable to conclude?"),
        (alone("What happened in 2014?"), "and in 2020?", "What happened in 2020?"),
        (
            alone("How many attacks were launched in the fall of 2023?"),
            "and the year before?",
            "How many attacks were launched in 2022?",
        ),
        (
            alone("what happened in mosul in 2014"),
            "and in baghdad in 2020?",
            "What happened in Baghdad in 2020?",
        ),
        # "it" is not the speaker; "that" after an unanswered "when" is what it asked about
        (
            alone("what does the pentagon say the reduction reflects"),
            "and what is it supposed to lead to?",
            "What is the reduction supposed to lead to?",
        ),
        (
            alone("when is the withdrawal supposed to be finished?"),
            "will some troops stay after that?",
            "Will some troops stay after the withdrawal?",
        ),
        # questions without a subject
        (TIMETABLE, "why?", "Why does Iraq want the withdrawal timetable to start?"),
        (TROOPS, "since when?", "Since when are US troops in Iraq?"),
        (
            alone("Is the US reducing its mission in Iraq?"),
            "why is that?",
            "Why is the US reducing its mission in Iraq?",
        ),
    ],
)
def test_follow_up_is_rewritten_to_stand_on_its_own(turn: Turn, message: str, expected: str) -> None:
    assert resolve(message, [turn]) == expected


@pytest.mark.parametrize(
    "message",
    [
        "What happened after the Obama-era withdrawal?",  # a new topic
        "Who is Qasem Soleimani?",
        "are there any troops in Syria?",  # "there" that points nowhere
        "is it true that Iraq wants the troops out?",  # "it" that points nowhere
        "thanks!",
    ],
)
def test_a_question_that_stands_on_its_own_is_used_as_asked(message: str) -> None:
    assert resolve(message, [AUSTIN]) is None


def test_without_context_nothing_is_resolved() -> None:
    assert resolve("what did he say about the transition?", []) is None


def test_the_most_recent_turn_naming_the_right_kind_is_used() -> None:
    turns = [AUSTIN, Turn("How long will coalition operations continue in Syria?", "Until 2026. [1]", 0.0)]
    assert resolve("what did he say about it?", turns) == "What did Lloyd Austin say about Syria?"


def test_a_follow_up_of_a_follow_up_builds_on_the_resolved_question() -> None:
    talks = Turn("Who is Qasem Soleimani?", "…Iranian General Qasem Soleimani in a drone strike… [1]", 0.0)
    where = resolve("where was he killed", [talks])
    assert where == "Where was Qasem Soleimani killed?"
    assert resolve("and when?", [talks, Turn(where, "at Baghdad airport in 2020. [1]", 0.0)]) == (
        "When was Qasem Soleimani killed?"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(conversation.time, "monotonic", fake)
    return fake


def test_context_expires_after_the_idle_time(clock: Clock) -> None:
    chats = Conversations(max_turns=3, idle_s=60)
    chats.remember("c", TROOPS.question, TROOPS.answer, follow_up=False)
    clock.now += 59
    assert chats.resolve("c", "and in germany?") == "How many US troops are in Germany?"
    clock.now += 61
    assert chats.resolve("c", "and in germany?") is None


def test_context_keeps_only_the_last_turns(clock: Clock) -> None:
    chats = Conversations(max_turns=1, idle_s=60)
    chats.remember("c", AUSTIN.question, AUSTIN.answer, follow_up=False)
    chats.remember("c", "How long will coalition operations continue in Syria?", "Until 2026.")
    assert chats.resolve("c", "what did he say?") is None  # Austin's turn has dropped out
    assert [t.question for t in chats.recent("c")] == [
        "How long will coalition operations continue in Syria?"
    ]


def test_a_new_topic_starts_the_context_afresh(clock: Clock) -> None:
    chats = Conversations(max_turns=3, idle_s=60)
    chats.remember("c", AUSTIN.question, AUSTIN.answer, follow_up=False)
    chats.remember("c", "What happened after the Obama-era withdrawal?", "A power vacuum.", follow_up=False)
    assert len(chats.recent("c")) == 1
    assert chats.resolve("c", "what did he say?") is None  # Austin belonged to the old topic


def test_forget_and_separate_conversations(clock: Clock) -> None:
    chats = Conversations()
    chats.remember("a", TROOPS.question, TROOPS.answer, follow_up=False)
    assert chats.resolve("b", "and in germany?") is None
    chats.forget("a")
    assert chats.resolve("a", "and in germany?") is None


def test_zero_turns_keeps_no_context_and_bad_values_are_refused() -> None:
    chats = Conversations(max_turns=0)
    chats.remember("a", TROOPS.question, TROOPS.answer)
    assert chats.recent("a") == []
    with pytest.raises(ValueError, match="-1"):
        Conversations(max_turns=-1)
    with pytest.raises(ValueError, match="idle_s"):
        Conversations(idle_s=0)
