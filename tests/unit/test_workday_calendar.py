"""Working days and deadlines against chinese-calendar, a naive reference and hand-checked 调休."""

from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import CalendarCoverageError, CalendarFileError, WorkdayCalendar

BJ = ZoneInfo("Asia/Shanghai")
FICTIONAL_2027 = Path(__file__).parent / "calendar_files" / "fictional-2027.toml"
CAL = WorkdayCalendar.default()


def naive_add(d: date, n: int) -> date:
    step = 1 if n > 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if chinese_calendar.is_workday(d):
            left -= 1
    return d


@settings(max_examples=400, deadline=None)
@given(st.dates(date(2004, 1, 1), date(2026, 12, 31)))
def test_is_workday_agrees_with_chinese_calendar(d):
    assert CAL.is_workday(d) == chinese_calendar.is_workday(d)


@settings(max_examples=400, deadline=None)
@given(st.dates(date(2004, 3, 1), date(2026, 10, 31)), st.integers(-30, 30).filter(lambda n: n != 0))
def test_add_workdays_agrees_with_a_day_by_day_reference(d, n):
    assert CAL.add_workdays(d, n) == naive_add(d, n)


@cache
def workdays_through() -> dict[date, int]:
    """Per day of 2004–2026, chinese-calendar's working days from 2004-01-01 through it, counted day by day once."""
    totals, n, d = {}, 0, date(2004, 1, 1)
    while d <= date(2026, 12, 31):
        n += chinese_calendar.is_workday(d)
        totals[d] = n
        d += timedelta(days=1)
    return totals


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2004, 1, 1), date(2026, 12, 31)), st.dates(date(2004, 1, 1), date(2026, 12, 31)))
def test_workdays_between_counts_the_half_open_interval(a, b):
    expected = workdays_through()[b] - workdays_through()[a] if b > a else 0  # working days in (a, b]
    assert CAL.workdays_between(a, b) == expected


@pytest.mark.parametrize("d, n, expected", [
    (date(2019, 9, 27), 1, date(2019, 9, 29)),    # Sunday 09-29 worked (国庆调休)
    (date(2019, 9, 30), 1, date(2019, 10, 8)),
    (date(2019, 10, 8), 4, date(2019, 10, 12)),   # Saturday 10-12 worked
    (date(2019, 10, 1), 1, date(2019, 10, 8)),    # event on a holiday: it never counts
    (date(2024, 2, 2), 1, date(2024, 2, 4)),      # Sunday 02-04 worked (春节调休)
    (date(2024, 2, 9), 1, date(2024, 2, 18)),     # 02-10..02-17 off, Sunday 02-18 worked
    (date(2026, 2, 13), 1, date(2026, 2, 14)),    # Saturday 02-14 worked
    (date(2026, 2, 27), 1, date(2026, 2, 28)),    # Saturday 02-28 worked
    (date(2019, 10, 8), -1, date(2019, 9, 30)),
])
def test_hand_checked_adjusted_days(d, n, expected):
    assert CAL.add_workdays(d, n) == expected


def test_datetime_and_zero_are_refused():
    with pytest.raises(TypeError):
        CAL.is_workday(datetime(2019, 1, 1))
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2019, 1, 1), 0)


def test_seed_backfill_deadline():
    due = CAL.deadline(datetime(2019, 12, 13, 16, 0, tzinfo=BJ), "5 workdays")
    assert due.at == datetime(2019, 12, 21, 0, 0, tzinfo=BJ) and due.last_day == date(2019, 12, 20)
    assert not due.provisional


def test_events_at_2359_and_0000_count_from_their_own_day():
    assert CAL.deadline(datetime(2019, 12, 2, 23, 59, tzinfo=BJ), "2 workdays").last_day == date(2019, 12, 4)
    assert CAL.deadline(datetime(2019, 12, 3, 0, 0, tzinfo=BJ), "2 workdays").last_day == date(2019, 12, 5)
    # an instant given in UTC is read in Beijing time
    assert CAL.deadline(datetime(2019, 12, 2, 16, 30, tzinfo=ZoneInfo("UTC")), "2 workdays").last_day == date(2019, 12, 5)


def test_n_days_ending_on_a_holiday_move_to_the_next_working_day():
    # 2019-09-28 + 3 days = 10-01 (National Day): the period ends on 10-08
    due = CAL.deadline(datetime(2019, 9, 28, 10, tzinfo=BJ), "3 days")
    assert due.last_day == date(2019, 10, 8)
    assert CAL.deadline(datetime(2019, 12, 2, 10, tzinfo=BJ), "2 days").last_day == date(2019, 12, 4)


def test_cutoff():
    due = CAL.deadline(datetime(2019, 11, 27, 9, tzinfo=BJ), "2 workdays", cutoff="17:00")
    assert due.at == datetime(2019, 11, 29, 17, 0, tzinfo=BJ)
    assert CAL.deadline(datetime(2019, 11, 27, 9, tzinfo=BJ), "2 workdays", cutoff=time(12)).at.hour == 12


def test_naive_event_is_refused():
    with pytest.raises(ValueError):
        CAL.deadline(datetime(2019, 11, 27, 9), "2 workdays")


def test_december_2026_needs_2027():
    assert CAL.covers(date(2026, 12, 31)) and not CAL.covers(date(2027, 1, 4))
    with pytest.raises(CalendarCoverageError) as info:
        CAL.deadline(datetime(2026, 12, 28, 10, tzinfo=BJ), "5 workdays")
    assert info.value.year == 2027
    assert "2027" in str(info.value) and "calendars/data/2027.toml" in str(info.value)
    with pytest.raises(CalendarCoverageError):
        CAL.is_workday(date(2027, 1, 4))


def test_provisional_year_counts_statutory_holidays_without_adjustments():
    cal = WorkdayCalendar.default(provisional=True)
    due = cal.deadline(datetime(2026, 12, 28, 10, tzinfo=BJ), "5 workdays")
    assert due.provisional and due.last_day == date(2027, 1, 5)  # 01-01 off, no 调休
    spring = [date(2027, 2, 5) + timedelta(days=k) for k in range(4)]  # 除夕 to 初三 (2024 revision)
    assert not any(cal.is_workday(d) for d in spring)
    assert cal.is_workday(date(2027, 2, 9))
    assert not cal.is_workday(date(2027, 4, 5))  # 清明
    assert not cal.deadline(datetime(2026, 12, 1, tzinfo=BJ), "5 workdays").provisional


def test_a_published_year_file_replaces_the_provisional_year():
    cal = WorkdayCalendar.from_files([FICTIONAL_2027], provisional=True)
    assert 2027 in cal.published_years and 2027 not in cal.provisional_years
    assert cal.is_workday(date(2027, 2, 14)) and not cal.is_workday(date(2027, 2, 11))
    assert not cal.deadline(datetime(2026, 12, 28, 10, tzinfo=BJ), "5 workdays").provisional


def test_files_alone_and_local_adjustments(tmp_path):
    alone = WorkdayCalendar.from_files([FICTIONAL_2027], base=False)
    assert not alone.covers(date(2026, 6, 1)) and alone.covers(date(2027, 6, 1))
    local = tmp_path / "local.toml"
    local.write_text('year = 2019\ncomplete = false\nsource = "区政府通知"\nholidays = ["2019-12-09"]\n', encoding="utf-8")
    cal = WorkdayCalendar.from_files([local])
    assert not cal.is_workday(date(2019, 12, 9)) and cal.is_workday(date(2019, 12, 10))


BAD_FILES = [
    ('year = 2027\ncomplete = true\nsource = "x"\nholidays = ["2027-02-30"]', "holidays", "不是有效的日期"),
    ('year = 2027\ncomplete = true\nsource = "x"\nholidays = ["2027-02-12/2027-02-05"]', "holidays", "结束早于开始"),
    ('year = 2027\ncomplete = true\nsource = "x"\nholidays = ["2028-01-01"]', "holidays", "不在 year = 2027 之内"),
    ('year = 2027\ncomplete = true\nsource = "x"\nholidays = ["2027-02-14"]\nworkdays = ["2027-02-14"]', "workdays",
     "既是假日又是调休工作日"),
    ('year = 2027\ncomplete = true\nsource = "x"\nworkdays = ["2027-02-15"]', "workdays", "应为周六或周日"),
    ('year = 2027\ncomplete = true\nsource = "x"\nholiday = []', "holiday", "未知的键"),
    ('year = 2027\ncomplete = true\nholidays = []', "source", "必填"),
    ('year = 2028\ncomplete = false\nsource = "x"\nholidays = ["2028-01-03"]', "complete", "局部调整文件无从叠加"),
    ('year = 2019\ncomplete = true\nsource = "x"\n[[x', "", "不是有效的 TOML"),
]


@pytest.mark.parametrize("text, key, message", BAD_FILES)
def test_malformed_override_files_are_refused_whole(tmp_path, text, key, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as info:
        WorkdayCalendar.from_files([path])
    assert (info.value.path, info.value.key) == (str(path), key)
    assert message in str(info.value)


def test_two_complete_files_for_one_year(tmp_path):
    copy = tmp_path / "again.toml"
    copy.write_text(FICTIONAL_2027.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CalendarFileError, match="已有完整覆盖文件"):
        WorkdayCalendar.from_files([FICTIONAL_2027, copy])


def test_environment_files_are_laid_over_the_default(monkeypatch):
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    assert WorkdayCalendar.default().covers(date(2027, 3, 1))
