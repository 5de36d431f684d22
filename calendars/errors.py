"""Why a calendar cannot answer: a year it does not cover, or an override file it refuses."""

from __future__ import annotations


class CalendarCoverageError(LookupError):
    """A date in a year no calendar covers; the message names the year and the file to add."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"工作日历未覆盖 {year} 年：请在国务院办公厅公布 {year} 年节假日安排后，添加覆盖文件 "
            f"calendars/data/{year}.toml（或用 SSJ_CALENDAR_FILES 指定），或在方案中设置 provisional_calendar = true 使用暂定日历"
        )


class CalendarFileError(ValueError):
    """An override file refused as a whole: ``path``, ``key`` and ``value`` say where and what."""

    def __init__(self, path: str, key: str, value: object, problem: str):
        self.path, self.key, self.value = path, key, value
        shown = f"（{value!r}）" if value is not None else ""
        super().__init__(f"{path}: {key}: {problem}{shown}")
