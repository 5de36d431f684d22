"""The kinds of value a campaign file's keys hold.

Each kind is a function: the TOML value in, the plan's value out, or ``Invalid``
saying in Chinese what the value should have been and what it is. The campaign
file's declarations (``workflow.campaign_file``) name the kind of every key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.campaign_plan import EVENTS, Rule
from workflow.directory import Invalid
from workflow.email_address import address_problem

Kind = Callable[[Any], Any]

# Whole-string patterns, used with fullmatch: "$" would accept "luquan-2019-h2\n" as a second campaign.
_RULE = re.compile(r"\s*(\d{1,3})\s+(workday|workdays|day|days)\s*")
_DAYS = re.compile(r"\s*(\d{1,4})\s+(day|days)\s*")
_CUTOFF = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _show(value: Any) -> str:
    """A value as the file writes it: strings in quotes, booleans in lower case."""
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _expected(what: str, value: Any) -> Invalid:
    """The refusal of ``value``: what it should be (``应为…``), then what it is."""
    return Invalid(f"{what}，实际为 {_show(value)}")


def _same(value: Any) -> Any:
    return value


def _accepting(test: Callable[[Any], bool], what: str, convert: Callable[[Any], Any] = _same) -> Kind:
    """The kind of the values ``test`` accepts (each ``convert``-ed); ``what`` says what the others should be."""

    def parse(value: Any) -> Any:
        if test(value):
            return convert(value)
        raise _expected(what, value)

    return parse


def _written(pattern: re.Pattern[str], build: Callable[[re.Match[str]], Any], what: str) -> Kind:
    """The kind of the strings ``pattern`` matches, read by ``build`` (None: refused after all)."""

    def parse(value: Any) -> Any:
        m = pattern.fullmatch(value) if isinstance(value, str) else None
        built = build(m) if m else None
        if built is None:
            raise _expected(what, value)
        return built

    return parse


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _finite_decimal(written: str) -> Decimal | None:
    try:
        number = Decimal(written)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


text = _accepting(lambda v: _is_str(v) and v.strip() != "", "应为非空字符串", str.strip)
any_text = _accepting(_is_str, "应为字符串")
code = _accepting(lambda v: _is_str(v) and bool(_CODE.fullmatch(v)), "应为编码（字母、数字、- _ .，不超过 64 个字符）")
flag = _accepting(lambda v: isinstance(v, bool), "应为 true 或 false")
positive_int = _accepting(lambda v: _is_int(v) and v >= 1, "应为正整数")
non_negative_int = _accepting(lambda v: _is_int(v) and v >= 0, "应为非负整数")
day = _accepting(lambda v: isinstance(v, date) and not isinstance(v, datetime), "应为日期（如 2019-12-09，不加引号）")
# A date-time without offset: the campaign reads it in its own timezone.
local_datetime = _accepting(lambda v: isinstance(v, datetime) and v.tzinfo is None,
                            "应为不带时区的本地日期时间（如 2019-11-27T09:00:00，不加引号）")
text_list = _accepting(lambda v: isinstance(v, list) and all(_is_str(x) and x.strip() for x in v), "应为字符串列表",
                       lambda v: tuple(x.strip() for x in v))
# A period, "N workdays" or "N days"; a number of calendar days, "365 days"; a time of day, "17:00".
period = _written(_RULE, lambda m: Rule(int(m[1]), m[2].startswith("workday")) if int(m[1]) else None,
                  "应为 \"N workdays\" 或 \"N days\"（N 为正整数）")
days = _written(_DAYS, lambda m: int(m[1]), "应为 \"N days\"（如 \"365 days\"）")
clock_time = _written(_CUTOFF, lambda m: time(int(m[1]), int(m[2])), "应为 \"HH:MM\"（如 \"17:00\"）")


def email(value: Any) -> str:
    """An address the product may mail (``workflow.email_address``), trimmed."""
    problem = address_problem(value.strip()) if _is_str(value) else ""
    if problem is None:
        return value.strip()
    raise _expected(f"应为电子邮箱地址（{problem}）" if problem else "应为电子邮箱地址", value)


def amount(value: Any) -> Decimal:
    """An amount of 万元, not negative."""
    is_number = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    number = _finite_decimal(str(value)) if is_number else None
    if number is not None and number >= 0:
        return number
    raise _expected("应为不小于 0 的数（万元）", value)


def ratio(value: Any) -> tuple[Decimal, str]:
    """A share in (0, 1], written "1%" or "0.01": the number and the text as written (NFKC)."""
    written = unicodedata.normalize("NFKC", value).strip() if _is_str(value) else ""
    percent = written.endswith("%")
    number = _finite_decimal(written[:-1] if percent else written)
    if number is not None and percent:
        number /= 100
    if number is not None and 0 < number <= 1:
        return number, written
    raise _expected("应为比例字符串，如 \"1%\" 或 \"0.01\"（大于 0，不超过 100%）", value)


def timezone(value: Any) -> str:
    if not _is_str(value):
        raise _expected("应为时区名称（如 Asia/Shanghai）", value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the tz database, "Asia"
        raise _expected("不是已知的时区名称（如 Asia/Shanghai）", value) from None
    return value


def event(value: Any) -> str:
    """What a "within" deadline runs from."""
    if value in EVENTS:
        return value
    raise Invalid(f"未知的事件 {_show(value)}（应为 {', '.join(EVENTS)} 之一）")


def one_of(options: tuple[str, ...], what: str) -> Kind:
    """A non-empty string among ``options``; ``what`` says which (``应为 ceil、floor 或 half_up``)."""

    def parse(value: Any) -> str:
        chosen = text(value)
        if chosen in options:
            return chosen
        raise _expected(what, chosen)

    return parse


def member_of(options: tuple[str, ...], noun: str, separator: str = "、") -> Kind:
    """An entry of a list that must be one of ``options``: “x”不是{noun}（应为 … 之一）."""

    def parse(value: Any) -> Any:
        if value in options:
            return value
        raise Invalid(f"“{value}”不是{noun}（应为 {separator.join(options)} 之一）")

    return parse
