"""Time windows in questions: "last week", "in 2024", "since January", "yesterday", "this month".

A window restricts retrieval to articles published inside it (both ends included). Relative
phrases are read against `today`: the real date, or `--as-of`/AS_OF for reproducible runs. The
phrase is taken out of the question, so "What did the council approve last week?" searches for
"What did the council approve?" among last week's articles. Free-form dates ("since 3 March",
"before June 2024") are read with dateparser (text/dates.py). A window that holds no article is
ignored by the service (it says so): the phrase may name when the event happened.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from newsqa.index.errors import QuestionError
from newsqa.index.text.dates import day_number, to_date
from newsqa.index.types import Period, When

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WHEN = (
    rf"(?:(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:{_MONTHS})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?,?(?:\s+\d{{4}})?"
    r"|\d{4}(?:-\d{2}-\d{2})?)"
)
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_PHRASE = re.compile(
    rf"""(?ix)\b(?:
        (?P<named>yesterday|today|this\ (?:week|month|year)|(?:last|past)\ (?:week|month|year)
          |this\ past\ (?:week|month))
      | (?:in\ )?the\ (?:last|past)\ (?P<count>\d{{1,3}})\ (?P<unit>day|week|month|year)s?
      | (?P<op>since|after|before|until|in|during)\ (?P<when>{_WHEN})
    )\b""",
)


@dataclass(frozen=True)
class Window:
    """Articles published from `since` to `until`, both included; an open end is None."""

    since: date | None
    until: date | None
    phrase: str = ""  # as the question said it; "" when given as --since/--until

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"the window's start {self.since} is after its end {self.until}")

    @property
    def days(self) -> tuple[int, int]:
        """The window as day numbers (text.dates.day_number), open ends widened to any date."""
        low = day_number(self.since) if self.since else 1
        high = day_number(self.until) if self.until else 99991231
        return low, high

    def holds(self, published: str | None) -> bool:
        """Whether an article published on `published` (ISO day) is inside; undated ones never are."""
        day = to_date(published) if published else None
        return day is not None and self.days[0] <= day_number(day) <= self.days[1]

    def period(self, articles: int) -> Period:
        """What an answer reports of the window: its ends, its phrase and the articles inside."""
        since = self.since.isoformat() if self.since else None
        until = self.until.isoformat() if self.until else None
        return Period(since, until, self.phrase or None, articles)


def asked_window(question: str, when: When, today: date) -> tuple[Window | None, str]:
    """The window to search and the question without its time phrase: --since/--until (`when`) win
    over the question's phrase, which is read against `when.as_of`, else `today`."""
    window, rest = read_window(question, when.as_of or today)
    if when.since or when.until:
        try:
            window = Window(when.since, when.until)
        except ValueError as exc:
            raise QuestionError(str(exc)) from None
    return window, rest


def read_window(question: str, today: date) -> tuple[Window | None, str]:
    """The time window a question names, and the question without it; (None, question) without one."""
    for match in _PHRASE.finditer(question):
        window = _window(match, today)
        if window is not None:
            rest = question[: match.start()] + question[match.end() :]
            rest = re.sub(r"\s+([?.!,])", r"\1", " ".join(rest.split())).strip(" ,")
            return window, rest or question
    return None, question


def _window(match: re.Match[str], today: date) -> Window | None:
    phrase = match.group(0)
    if named := match["named"]:
        since, until = _named(named.lower(), today)
        return Window(since, until, phrase)
    if match["count"]:
        back = int(match["count"]) * _UNITS[match["unit"].lower()]
        return Window(today - timedelta(days=back), today, phrase)
    op, when = match["op"].lower(), match["when"]
    first, last = _span(when, today)
    if first is None or last is None or first > today:
        return None
    if op in ("in", "during"):
        return Window(first, min(last, today), phrase)
    if op == "since":
        return Window(first, today, phrase)
    if op == "after":
        return Window(last + timedelta(days=1), today, phrase) if last < today else None
    return Window(None, first - timedelta(days=1), phrase)  # before, until


def _named(named: str, today: date) -> tuple[date, date]:
    named = named.replace("this past", "last")
    if named == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if named == "today":
        return today, today
    if named == "this week":
        return today - timedelta(days=today.weekday()), today
    if named == "this month":
        return today.replace(day=1), today
    if named == "this year":
        return today.replace(month=1, day=1), today
    if named == "last week" or named == "past week":
        return today - timedelta(days=7), today
    if named == "past month":
        return today - timedelta(days=30), today
    if named == "past year":
        return today - timedelta(days=365), today
    if named == "last month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)  # last year


def _span(when: str, today: date) -> tuple[date | None, date | None]:
    """The days a date phrase covers: a year, a month, or one day; the latest such before `today`."""
    text = when.strip(" ,.")
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return date(year, 1, 1), date(year, 12, 31)
    day = to_date(text, relative_to=today)
    if day is None:
        return None, None
    if re.search(r"\d{4}-\d{2}-\d{2}|\b\d{1,2}(?:st|nd|rd|th)?\b(?!\d)", re.sub(r"\b\d{4}\b", "", text)):
        return day, day  # names a day
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)  # names a month
