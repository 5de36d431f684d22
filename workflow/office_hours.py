"""When mail may reach officials: in office hours on working days (default 08:30–17:30 Beijing time).

A notice whose time comes at midnight or on a Saturday waits for the next working
day's opening. Only the sending waits: the instant a task became overdue stays its
deadline, and reports and escalations count from that.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendars import CalendarCoverageError, WorkdayCalendar
from calendars.statutory import statutory_holidays

OPENS, CLOSES = time(8, 30), time(17, 30)


@functools.lru_cache(maxsize=None)
def _statutory(year: int) -> frozenset[date]:
    """The statutory days off of a year no calendar covers (none where the lunar tables end)."""
    try:
        return frozenset(statutory_holidays(year))
    except Exception:  # noqa: BLE001 - beyond the tables: Monday to Friday
        return frozenset()


@dataclass(frozen=True)
class OfficeHours:
    opens: time = OPENS
    closes: time = CLOSES

    def _workday(self, day: date, calendar: WorkdayCalendar) -> bool:
        try:
            return calendar.is_workday(day)
        except CalendarCoverageError:  # a year no calendar covers yet: Monday to Friday but the statutory days off
            return day.weekday() < 5 and day not in _statutory(day.year)

    def is_open(self, at: datetime, calendar: WorkdayCalendar, tz: ZoneInfo) -> bool:
        local = at.astimezone(tz)
        return self._workday(local.date(), calendar) and self.opens <= local.time() < self.closes

    def opening(self, at: datetime, calendar: WorkdayCalendar, tz: ZoneInfo) -> datetime:
        """``at`` itself when the office is open then, else the next working day's opening."""
        if self.is_open(at, calendar, tz):
            return at
        local = at.astimezone(tz)
        day = local.date() if local.time() < self.opens else local.date() + timedelta(days=1)
        for _ in range(400):
            if self._workday(day, calendar):
                return datetime.combine(day, self.opens, tz)
            day += timedelta(days=1)
        raise ValueError(f"no working day within 400 days after {day}")  # pragma: no cover - calendars forbid it

    def words(self) -> str:
        """``08:30–17:30``, as the demo's account says when mail may go."""
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"
