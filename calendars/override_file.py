"""Calendar override files (FORMATS.md): one year's days off and 调休 working days.

A file is all or nothing: any refusal raises ``CalendarFileError`` and nothing of
it applies. ``complete = true`` defines a year chinese-calendar lacks; ``false``
lays local adjustments over a year something else already covers.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from calendars.errors import CalendarFileError

_KEYS = {"year", "complete", "source", "holidays", "workdays"}


@dataclass(frozen=True)
class YearOverride:
    path: str
    year: int
    complete: bool
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]


def _days(path: str, key: str, entries: object, year: int) -> set[date]:
    if not isinstance(entries, list):
        raise CalendarFileError(path, key, entries, "应为日期字符串列表")
    out: set[date] = set()
    for entry in entries:
        if not isinstance(entry, str):
            raise CalendarFileError(path, key, entry, "应为 \"YYYY-MM-DD\" 或 \"YYYY-MM-DD/YYYY-MM-DD\"")
        try:
            first, _, last = entry.partition("/")
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise CalendarFileError(path, key, entry, "不是有效的日期或日期范围") from None
        if end < start:
            raise CalendarFileError(path, key, entry, "日期范围的结束早于开始")
        if start.year != year or end.year != year:
            raise CalendarFileError(path, key, entry, f"日期不在 year = {year} 之内")
        day = start
        while day <= end:
            out.add(day)
            day += timedelta(days=1)
    return out


def read_override(path: str | Path) -> YearOverride:
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalendarFileError(where, "", None, "文件不存在") from None
    except UnicodeDecodeError as exc:
        raise CalendarFileError(where, "", None, f"不是有效的 TOML 文件：{exc}") from None
    return parse_override(text, where)


def parse_override(text: str, where: str) -> YearOverride:
    """One override file's content; ``where`` names it in every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileError(where, "", None, f"不是有效的 TOML 文件：{exc}") from None
    for key in sorted(set(data) - _KEYS):
        raise CalendarFileError(where, key, data[key], "未知的键")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 2200:
        raise CalendarFileError(where, "year", year, "应为年份（整数）")
    complete = data.get("complete")
    if not isinstance(complete, bool):
        raise CalendarFileError(where, "complete", complete, "应为 true 或 false")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CalendarFileError(where, "source", source, "必填：发布该安排的文件名称")
    holidays = _days(where, "holidays", data.get("holidays", []), year)
    workdays = _days(where, "workdays", data.get("workdays", []), year)
    both = sorted(holidays & workdays)
    if both:
        raise CalendarFileError(where, "workdays", both[0].isoformat(), "同一天既是假日又是调休工作日")
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise CalendarFileError(where, "workdays", day.isoformat(), "调休工作日应为周六或周日")
    return YearOverride(where, year, complete, source.strip(), frozenset(holidays), frozenset(workdays))
