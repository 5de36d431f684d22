"""A deadline written as the notice writes it: "2019年11月29日（星期五）前", "2019年12月2日（星期一）17:00前".

A due instant of 00:00 closes the day before (FORMATS.md: "by the end of that day"), so
it is written as that day with no hour; any other instant is a cutoff and keeps its
hour. Emails, forms, reports, the dashboard and ``campaign check`` all use these words,
so a department reads one date wherever it looks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = "一二三四五六日"


def day_words(day: date) -> str:
    """``2019年11月29日（星期五）``."""
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def last_day(due: datetime, tz: ZoneInfo) -> date:
    """The day a due instant closes (00:00 belongs to the day before)."""
    return (due.astimezone(tz) - timedelta(microseconds=1)).date()


def deadline_words(due: datetime, tz: ZoneInfo, *, provisional: bool = False) -> str:
    """The due instant as the office writes a deadline; ``provisional`` adds that it may still move."""
    local = due.astimezone(tz)
    words = f"{day_words(last_day(due, tz))}前" if local.time() == time(0) else \
        f"{day_words(local.date())}{local:%H:%M}前"
    return words + ("（暂定）" if provisional else "")


def instant_words(at: datetime, tz: ZoneInfo) -> str:
    """A moment something happened: ``2019年11月27日（星期三）09:00``."""
    local = at.astimezone(tz)
    return f"{day_words(local.date())}{local:%H:%M}"
