"""100,000 ``add_workdays(d, 5)`` against chinese-calendar doing the same work.

Baseline: a day-by-day loop over ``chinese_calendar.is_workday`` (the obvious
implementation), and ``find_workday`` (which agrees only for working-day starts);
both timed on the same dates in the same run. The product answers from its
precomputed ordinal table.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import chinese_calendar

from calendars import WorkdayCalendar

CALLS = 100_000


def _naive(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        if chinese_calendar.is_workday(d):
            n -= 1
    return d


def _timed(fn, days) -> float:
    start = time.perf_counter()
    for d in days:
        fn(d)
    return time.perf_counter() - start


def main() -> None:
    rng = random.Random(3)
    days = [date(2004, 1, 1) + timedelta(days=rng.randrange(365 * 22)) for _ in range(CALLS)]
    cal = WorkdayCalendar.default()
    product = _timed(lambda d: cal.add_workdays(d, 5), days)
    sample = days[: CALLS // 10]  # the baselines are slow: time a tenth and scale
    naive = _timed(lambda d: _naive(d, 5), sample) * 10
    find = _timed(lambda d: chinese_calendar.find_workday(5, d), sample) * 10
    assert all(cal.add_workdays(d, 5) == _naive(d, 5) for d in sample[:2000])
    print(f"calendar: {CALLS:,} add_workdays(d, 5)")
    print(f"  baseline, day-by-day loop over chinese_calendar.is_workday : {naive:8.3f} s ({naive / CALLS * 1e6:6.1f} µs/call)")
    print(f"  baseline, chinese_calendar.find_workday                    : {find:8.3f} s ({find / CALLS * 1e6:6.1f} µs/call)")
    print(f"  WorkdayCalendar.add_workdays (ordinal table)               : {product:8.3f} s ({product / CALLS * 1e6:6.1f} µs/call)")
    print(f"  speed-up: {naive / product:.0f}x vs the loop, {find / product:.0f}x vs find_workday (target ≥ 100x)")
