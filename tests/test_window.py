"""Time phrases in questions to windows, and "as of" leads: pure logic, read against a fixed day."""

from __future__ import annotations

from datetime import date

import pytest

from newsqa.index.answering.timeline import as_of, asks_present
from newsqa.index.answering.window import Window, asked_window, read_window
from newsqa.index.errors import QuestionError
from newsqa.index.text.dates import period_text
from newsqa.index.types import When

pytestmark = pytest.mark.fast

TODAY = date(2025, 11, 30)  # a Sunday


@pytest.mark.parametrize(
    ("question", "since", "until", "rest"),
    [
        ("What happened yesterday?", "2025-11-29", "2025-11-29", "What happened?"),
        (
            "What did the council approve last week?",
            "2025-11-23",
            "2025-11-30",
            "What did the council approve?",
        ),
        ("Any news this month?", "2025-11-01", "2025-11-30", "Any news?"),
        ("Who won the election in 2024?", "2024-01-01", "2024-12-31", "Who won the election?"),
        ("What has changed since January?", "2025-01-01", "2025-11-30", "What has changed?"),
        ("What happened in March?", "2025-03-01", "2025-03-31", "What happened?"),
        ("What happened since 3 March 2025?", "2025-03-03", "2025-11-30", "What happened?"),
        ("What did they say last month?", "2025-10-01", "2025-10-31", "What did they say?"),
        ("Storms in the last 3 days?", "2025-11-27", "2025-11-30", "Storms?"),
        ("Strikes before 2020?", None, "2019-12-31", "Strikes?"),
    ],
)
def test_time_phrase_becomes_a_window_and_leaves_the_question(
    question: str, since: str | None, until: str | None, rest: str
) -> None:
    window, left = read_window(question, TODAY)
    assert window is not None
    period = window.period(0)
    assert (period.since, period.until, left) == (since, until, rest)


@pytest.mark.parametrize(
    "question",
    ["How many US troops are in Iraq?", "What happened in 2031?", "Who lives in Maywood?", "In which year?"],
)
def test_no_window_without_a_past_time_phrase(question: str) -> None:
    assert read_window(question, TODAY) == (None, question)


def test_window_holds_only_dated_articles_inside_it() -> None:
    window = Window(date(2025, 11, 23), date(2025, 11, 30))
    assert window.holds("2025-11-23") and window.holds("2025-11-30")
    assert not window.holds("2025-11-22") and not window.holds(None)
    with pytest.raises(ValueError, match="after its end"):
        Window(date(2025, 12, 1), date(2025, 11, 30))


def test_period_is_described_in_words() -> None:
    assert (
        period_text(Window(date(2021, 1, 1), date(2021, 12, 31)).period(0))
        == "published 1 Jan 2021 – 31 Dec 2021"
    )
    assert period_text(Window(TODAY, TODAY).period(3)) == "published on 30 Nov 2025"
    assert period_text(Window(date(2025, 1, 1), None).period(3)) == "published since 1 Jan 2025"


@pytest.mark.parametrize(
    ("question", "present"),
    [
        ("How many US troops are in Iraq?", True),
        ("Who is currently the mayor?", True),
        ("What is the latest figure?", True),
        ("How many people worked there in 2019?", False),
        ("When did the strike start?", False),
    ],
)
def test_questions_about_the_present(question: str, present: bool) -> None:
    assert asks_present(question) is present


def test_as_of_lead_names_the_month_and_drops_an_agency_dateline() -> None:
    assert (
        as_of("2025-03-11", "About 2,400 people work there.")
        == "As of March 2025, about 2,400 people work there."
    )
    assert as_of("2025-04-04", "NORHAVEN, 4 April 2025 (Norhaven Post) - A ticket costs 6.20 pounds.") == (
        "As of April 2025, a ticket costs 6.20 pounds."
    )
    assert as_of(None, "Norhaven has 41,000 people.") == "Norhaven has 41,000 people."


def test_explicit_ends_win_over_the_phrase_and_must_be_in_order() -> None:
    window, rest = asked_window("What happened last week?", When(since=date(2024, 1, 1)), TODAY)
    assert window is not None and (window.since, window.until, rest) == (
        date(2024, 1, 1),
        None,
        "What happened?",
    )
    window, _ = asked_window("What happened yesterday?", When(as_of=date(2025, 1, 2)), TODAY)
    assert window is not None and window.since == date(2025, 1, 1)
    with pytest.raises(QuestionError, match="after its end"):
        asked_window("Any news?", When(since=date(2025, 2, 1), until=date(2025, 1, 1)), TODAY)
