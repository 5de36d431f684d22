"""Provisional days off for a year the State Council has not published yet.

《全国年节及纪念日放假办法》(2024 revision): 元旦 1 day, 春节 4 days (除夕 to 初三),
清明 1 day, 劳动节 2 days, 端午 1 day, 中秋 1 day, 国庆 3 days. Lunar dates come from
``lunardate``; 清明 is the solar term, from ``chinese_calendar``. No 调休: it is
unknown until published, so deadlines computed with it are marked 暂定.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate


def _solar(year: int, month: int, day: int) -> date:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return LunarDate(year, month, day).toSolarDate()


def statutory_holidays(year: int) -> set[date]:
    spring = _solar(year, 1, 1)
    qingming = next(d for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
                    if name == "清明")
    days = {date(year, 1, 1), qingming, date(year, 5, 1), date(year, 5, 2), _solar(year, 5, 5), _solar(year, 8, 15),
            date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)}
    days |= {spring + timedelta(days=k) for k in (-1, 0, 1, 2)}
    return {d for d in days if d.year == year}
