"""Chinese working days and legal deadlines (SPEC.md §3). Knows only dates.

Data: chinese-calendar (2004–2026 in 1.11) overlaid by override files, later
files winning. Everything is precomputed into an ordinal table — a cumulative
count of working days per date — so ``add_workdays`` and ``workdays_between``
answer by index and bisection instead of walking day by day.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

from calendars.errors import CalendarCoverageError, CalendarFileError
from calendars.override_file import YearOverride, parse_override, read_override
from calendars.statutory import statutory_holidays

BEIJING = ZoneInfo("Asia/Shanghai")  # the one time zone people read; the database keeps UTC
PROVISIONAL_YEARS_AHEAD = 3
_RULE = re.compile(r"^\s*(\d{1,4})\s+(workday|workdays|day|days)\s*$")


@dataclass(frozen=True)
class Deadline:
    """A due instant (aware, Asia/Shanghai); ``provisional`` when it rests on an unpublished year."""

    at: datetime
    provisional: bool

    @property
    def last_day(self) -> date:
        """The period's last day, as people write it (the day before a midnight instant)."""
        return (self.at - timedelta(microseconds=1)).date() if self.at.time() == time(0) else self.at.date()


@functools.cache
def _base_years() -> dict[int, frozenset[date]]:
    """Working days per year from chinese-calendar's own tables (no per-day calls)."""
    from chinese_calendar import constants

    known = sorted({d.year for d in constants.holidays} | {d.year for d in constants.workdays})
    out: dict[int, frozenset[date]] = {}
    for year in range(known[0], known[-1] + 1):
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        out[year] = frozenset(_weekdays(year, constants.holidays, constants.workdays))
    return out


def _weekdays(year: int, off, extra=frozenset()) -> set[date]:
    """Working days of ``year``: Monday–Friday not in ``off``, plus the 调休 days in ``extra``."""
    day, end = date(year, 1, 1), date(year, 12, 31)
    working = set()
    while day <= end:
        if day in extra or (day.weekday() < 5 and day not in off):
            working.add(day)
        day += timedelta(days=1)
    return working


def bundled_files() -> list[Path]:
    folder = resources.files("calendars") / "data"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def environment_files() -> list[Path]:
    raw = os.environ.get("SSJ_CALENDAR_FILES", "")
    return [Path(p) for p in raw.split(":") if p.strip()]


class WorkdayCalendar:
    """Working days over the covered years; answers in O(1)/O(log n)."""

    def __init__(self, years: dict[int, set[date]], provisional_years: set[int] | None = None):
        if not years:
            raise ValueError("a calendar needs at least one covered year")
        self.published_years = frozenset(y for y in years if y not in (provisional_years or set()))
        self.provisional_years = frozenset(provisional_years or ())
        self._years = frozenset(years)
        self._first = date(min(years), 1, 1).toordinal()
        last = date(max(years), 12, 31).toordinal()
        size = last - self._first + 1
        flags = bytearray(size)
        for working in years.values():
            for day in working:
                flags[day.toordinal() - self._first] = 1
        self._flags = bytes(flags)
        cum = [0] * size
        count = 0
        for i, flag in enumerate(flags):
            count += flag
            cum[i] = count
        self._cum = cum  # working days up to and including each date
        self._workdays = [self._first + i for i, flag in enumerate(flags) if flag]

    # --- construction ---------------------------------------------------

    @classmethod
    def from_files(cls, paths, base: bool = True, provisional: bool = False) -> "WorkdayCalendar":
        """chinese-calendar and the default files (``base``), then ``paths``, later files winning."""
        files = [*bundled_files(), *environment_files(), *map(Path, paths)] if base else list(map(Path, paths))
        return cls._build([read_override(p) for p in files], base, provisional)

    @classmethod
    def from_texts(cls, named: list[tuple[str, str]], provisional: bool = False) -> "WorkdayCalendar":
        """chinese-calendar, then override files given as (name, content) — a calendar kept as it was adopted."""
        return cls._build([parse_override(text, name) for name, text in named], True, provisional)

    @classmethod
    def _build(cls, overrides: list, base: bool, provisional: bool) -> "WorkdayCalendar":
        years: dict[int, set[date]] = {}
        if base:
            years = {y: set(days) for y, days in _base_years().items()}
        _apply(years, overrides)
        provisional_years: set[int] = set()
        if provisional:
            if not years:
                raise ValueError("provisional years extend a calendar that covers at least one year")
            last = max(years)
            for year in range(last + 1, last + 1 + PROVISIONAL_YEARS_AHEAD):
                years[year] = _weekdays(year, statutory_holidays(year))
                provisional_years.add(year)
        return cls(years, provisional_years)

    @classmethod
    def default(cls, provisional: bool = False) -> "WorkdayCalendar":
        return cls.from_files([], base=True, provisional=provisional)

    # --- questions ------------------------------------------------------

    def covers(self, d: date) -> bool:
        return d.year in self._years

    def is_provisional(self, d: date) -> bool:
        return d.year in self.provisional_years

    def _need(self, *days: date) -> None:
        years = range(min(d.year for d in days), max(d.year for d in days) + 1)
        for year in years:
            if year not in self._years:
                raise CalendarCoverageError(year)

    def is_workday(self, d: date) -> bool:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"is_workday takes a date, not {type(d).__name__}")
        self._need(d)
        return bool(self._flags[d.toordinal() - self._first])

    def add_workdays(self, d: date, n: int) -> date:
        """n ≥ 1: the n-th working day strictly after ``d``; n ≤ −1: the |n|-th strictly before."""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"add_workdays takes a date, not {type(d).__name__}")
        if n == 0:
            raise ValueError("n = 0 has no meaning: the event day never counts")
        year = d.year
        if year not in self._years:
            raise CalendarCoverageError(year)
        i = d.toordinal() - self._first
        if n > 0:
            index = self._cum[i] + n - 1
            if index >= len(self._workdays):
                raise CalendarCoverageError(max(self._years) + 1)
        else:
            index = self._cum[i] - self._flags[i] + n
            if index < 0:
                raise CalendarCoverageError(min(self._years) - 1)
        result = date.fromordinal(self._workdays[index])
        if result.year != year:
            self._need(d, result)  # a year in between may be a gap in coverage
        return result

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; 0 when b ≤ a."""
        if b <= a:
            return 0
        self._need(a, b)
        return self._cum[b.toordinal() - self._first] - self._cum[a.toordinal() - self._first]

    def next_workday_on_or_after(self, d: date) -> date:
        return d if self.is_workday(d) else self.add_workdays(d, 1)

    def deadline(self, event_at: datetime, rule: str, cutoff: time | str | None = None) -> Deadline:
        """The due instant of "N workday(s)" or "N day(s)" after an event (SPEC.md §3)."""
        if not isinstance(event_at, datetime) or event_at.tzinfo is None:
            raise ValueError("event_at must be a timezone-aware datetime")
        m = _RULE.match(rule)
        if not m or int(m[1]) == 0:
            raise ValueError(f"rule must be 'N workday(s)' or 'N day(s)', got {rule!r}")
        n, workdays = int(m[1]), m[2].startswith("workday")
        start = event_at.astimezone(BEIJING).date()
        if workdays:
            last = self.add_workdays(start, n)
        else:
            last = self.next_workday_on_or_after(start + timedelta(days=n))  # 民法典 第二百零三条
        return Deadline(self.end_of(last, cutoff), self._provisional_between(start, last))

    def end_of(self, day: date, cutoff: time | str | None = None) -> datetime:
        """"By the end of ``day``": the next midnight in Beijing, or ``day`` at the cutoff."""
        if isinstance(cutoff, str):
            hours, minutes = cutoff.split(":")
            cutoff = time(int(hours), int(minutes))
        if cutoff is None:
            return datetime.combine(day + timedelta(days=1), time(0), BEIJING)
        return datetime.combine(day, cutoff, BEIJING)

    def _provisional_between(self, a: date, b: date) -> bool:
        return any(y in self.provisional_years for y in range(a.year, b.year + 1))


def _apply(years: dict[int, set[date]], overrides: list[YearOverride]) -> None:
    """Complete files define their year; partial ones adjust a year something covers."""
    complete_for: dict[int, YearOverride] = {}
    for ov in overrides:
        if ov.complete:
            if ov.year in complete_for:
                raise CalendarFileError(ov.path, "complete", True,
                                        f"{ov.year} 年已有完整覆盖文件 {complete_for[ov.year].path}")
            complete_for[ov.year] = ov
    for ov in overrides:
        if ov.complete:
            years[ov.year] = _weekdays(ov.year, ov.holidays, ov.workdays)
    for ov in overrides:
        if ov.complete:
            continue
        if ov.year not in years:
            raise CalendarFileError(ov.path, "complete", False,
                                    f"{ov.year} 年没有其他日历数据，局部调整文件无从叠加（应为 complete = true）")
        working = years[ov.year]
        working -= ov.holidays
        working |= ov.workdays
