"""Calendar dates as written in news ("12 Mar 2025", "2024-07-22T10:00Z", "March 2025") to `date`s.

dateparser reads the free forms; ISO dates, the common case in metadata, skip it. A date that names
no day ("March 2025") is the first of its month, one that names no month is 1 January, so a
window or a sort never guesses a day that was not written.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from newsqa.index.types import Period

_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+)?"
# "12 March 2025", "March 12, 2025", "2025-03-12", each optionally after a weekday.
DATE_PHRASE = (
    rf"{_WEEKDAY}(?:\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
# "BAGHDAD, March 12, 2025 (Reuters) - The United States…": the dateline opens the lede.
DATELINE = re.compile(
    rf"^[A-Z][A-Za-z.'’ -]{{1,40}},\s*(?P<date>{DATE_PHRASE})\s*(?:\([^)]{{1,30}}\))?\s*[-–—]"
)
EARLIEST_YEAR = 1900  # older than any news article here: a misread number, not a date


def to_date(text: str, relative_to: date | None = None) -> date | None:
    """The calendar date `text` names, or None when it names none; relative words read from `relative_to`."""
    text = " ".join(text.split())[:80]
    if not text:
        return None
    if iso := _ISO.match(text):
        try:
            return _plausible(date(int(iso[1]), int(iso[2]), int(iso[3])))
        except ValueError:
            return None
    if year := _YEAR.match(text):
        return _plausible(date(int(year[1]), 1, 1))
    return _parse(text, relative_to)


@lru_cache(maxsize=4096)
def _parse(text: str, relative_to: date | None) -> date | None:
    import dateparser  # ~0.1 s to import: only articles and questions with free-form dates pay it

    settings: dict[str, object] = {
        "PREFER_DAY_OF_MONTH": "first",
        "PREFER_MONTH_OF_YEAR": "first",
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if relative_to is not None:
        settings["RELATIVE_BASE"] = datetime.combine(relative_to, datetime.min.time())
    parsed = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
    return None if parsed is None else _plausible(parsed.date())


def _plausible(day: date) -> date | None:
    return day if day.year >= EARLIEST_YEAR else None


def day_number(day: date) -> int:
    """`day` as an orderable int, 20250312: what Chroma's `$gte`/`$lte` filters compare."""
    return day.year * 10000 + day.month * 100 + day.day


def human_date(iso: str | None) -> str | None:
    """ "2025-03-12" as "12 Mar 2025" for citations; None when `iso` is not an ISO date."""
    day = to_date(iso or "") if iso and _ISO.match(iso) else None
    return None if day is None else f"{day.day} {day:%b %Y}"


def byline(outlet: str | None, published: str | None) -> str:
    """What a citation says after its title: "Outlet, 12 Mar 2025", either part alone, or ""."""
    return ", ".join(part for part in (outlet, human_date(published)) if part)


def period_text(period: Period) -> str:
    """ "published 23 Nov 2025 – 30 Nov 2025", "published on 29 Nov 2025", "published since 1 Jan 2025"."""
    since, until = human_date(period.since), human_date(period.until)
    if since and until:
        return f"published on {since}" if since == until else f"published {since} – {until}"
    return f"published since {since}" if since else f"published until {until}"
