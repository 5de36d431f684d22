"""The four directories an office keeps, and the rules a row of each must obey.

FORMATS.md fixes the headers (Chinese canonical, English alias) and the rules.
This module is plain Python: a row comes in as raw cell values, a record (a dict
keyed by the English alias) or a list of Chinese problems comes out. Reading
files and writing the database are somebody else's business.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from workflow import uscc as uscc_rules
from workflow.email_address import address_problem


class Invalid(ValueError):
    """A cell value breaks its column's rule; the message is Chinese."""


ENTERPRISE_CATEGORIES = ("内资企业", "外资企业", "个体工商户", "农民专业合作社")
ENTERPRISE_STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
CREDIT_RISKS = ("A", "B", "C", "D")
OFFICER_STATUSES = ("在岗", "离岗")
ITEM_LEVELS = ("一般检查事项", "重点检查事项")

NOT_IN_LATEST = "不在最新名录"


def normalise_header(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


# --- cell parsers ---------------------------------------------------------


def _as_text(value: Any) -> str:
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    return str(value).strip()


def text(max_len: int = 200) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        s = _as_text(value)
        if len(s) > max_len:
            raise Invalid(too_long(len(s), max_len))
        return s

    parse.max_len = max_len  # lets the row reader check plain text inline (hot path)
    return parse


def too_long(length: int, max_len: int) -> str:
    return f"内容过长（{length} 个字符，最多 {max_len} 个）"


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    allowed = "、".join(options)

    def parse(value: Any) -> str:
        if value in options:
            return value
        s = unicodedata.normalize("NFKC", _as_text(value)).strip()
        if s not in options:
            raise Invalid(f"“{_short(s)}”不是允许的值（应为 {allowed} 之一）")
        return s

    return parse


def uscc(value: Any) -> str:
    code = uscc_rules.normalise(_as_text(value))
    problem = uscc_rules.problem(code)
    if problem:
        raise Invalid(f"“{_short(code)}”：{problem}")
    return code


def _usccs(texts: list[str]) -> list[str] | None:
    """``uscc`` of each of a column's stripped texts when every one is a valid code; else None (each is then
    parsed alone, and a bad one says why)."""
    if not "".join(texts).isascii():
        return None
    codes = list(map(str.upper, texts))
    return codes if uscc_rules.all_valid(codes) else None


uscc.many = _usccs  # see ``column_checks``

def code(value: Any) -> str:
    s = unicodedata.normalize("NFKC", _as_text(value)).strip()
    if len(s) > 64:
        raise Invalid(f"编码过长（{len(s)} 个字符，最多 64 个）")
    return s


def decimal_non_negative(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise Invalid(f"“{value}”不是数字")
    if isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        s = unicodedata.normalize("NFKC", _as_text(value)).replace(",", "").strip()
        try:
            number = Decimal(s)
        except InvalidOperation:
            raise Invalid(f"“{_short(s)}”不是数字（单位：万元，例如 500 或 1000.5）") from None
    if not number.is_finite():
        raise Invalid(f"“{value}”不是有限的数字")
    if number < 0:
        raise Invalid(f"不能为负数（实际为 {number}）")
    if number >= Decimal("1e12"):
        raise Invalid(f"数值过大（{number}）")
    if number.as_tuple().exponent < -6:
        number = number.quantize(Decimal("0.000001"))
    return number


def plain_decimal(number: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form: 1200, not 1.2E+3."""
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


_DATE_PATTERNS = (  # whole-string matches (fullmatch): "$" would let a trailing newline through
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?: 0?0:00(?::00)?)?"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)


def parse_date(value: Any) -> date:
    """YYYY-MM-DD, YYYY/M/D (and the 年月日 and dotted forms), or a date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    s = unicodedata.normalize("NFKC", _as_text(value)).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise Invalid(f"“{s}”不是存在的日期") from None
    if re.fullmatch(r"\d+(\.0+)?", s):
        raise Invalid(_serial_problem(int(float(s))))
    raise Invalid(f"“{_short(s)}”不是日期（应为 YYYY-MM-DD 或 YYYY/M/D）")


_EXCEL_EPOCH = date(1899, 12, 30)


def _serial_problem(number: int) -> str:
    """What a number in a date column is: when it reads as an Excel serial (1954–2118) or as YYYYMMDD, the
    date it would be. It is refused, not converted: the clerk's sheet shows the number, and the directory
    keeps only what he saw."""
    day = None
    if 20_000 < number < 80_000:
        day = date.fromordinal(_EXCEL_EPOCH.toordinal() + number).isoformat()
        hint = f"若是 Excel 的日期序号，即 {day}；"
    elif 10_000_000 <= number <= 99_991_231:
        try:
            day = date(number // 10_000, number // 100 % 100, number % 100).isoformat()
            hint = f"若指 {day}，"
        except ValueError:
            pass
    if day is None:
        return f"是数字 {number}，不是日期（应为 YYYY-MM-DD 或 YYYY/M/D）"
    return f"是数字 {number}，不是日期（{hint}请把该列设为日期格式，或写成 {day}）"


def email(value: Any) -> str:
    s = unicodedata.normalize("NFKC", _as_text(value)).strip()
    problem = address_problem(s)
    if problem:
        raise Invalid(f"“{_short(s)}”不是有效的电子邮箱地址：{problem}")
    return s


def mobile(value: Any) -> str:
    s = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", _as_text(value)))
    if not re.fullmatch(r"1\d{10}", s):
        raise Invalid(f"“{_short(s)}”不是 11 位手机号码")
    return s


_PHONE = re.compile(r"[0-9+()（）\-\s转,，;；/]*")


def phone(value: Any) -> str:
    s = _as_text(value)
    if not s.isascii():  # NFKC leaves ASCII as it is
        s = unicodedata.normalize("NFKC", s).strip()
    if len(s) > 40 or not _PHONE.fullmatch(s):
        raise Invalid(f"“{_short(s)}”不是有效的电话号码")
    return s


def _phones(texts: list[str]) -> list[str] | None:
    """``phone`` of each of a column's stripped texts when every one is ASCII and valid, else None. ``\\s`` is
    among the pattern's characters, so the texts joined by line breaks match if and only if each one does."""
    joined = "\n".join(texts)
    if joined.isascii() and max(map(len, texts)) <= 40 and _PHONE.fullmatch(joined):
        return texts
    return None


phone.many = _phones


_LIST_SPLIT = re.compile(r"[；;\n\r]+")


def split_list(value: Any) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(_as_text(value)) if part.strip()]


def text_list(max_items: int = 50, max_len: int = 500) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        parts = split_list(value)
        if len(parts) > max_items:
            raise Invalid(f"条目过多（{len(parts)} 条，最多 {max_items} 条）")
        for part in parts:
            if len(part) > max_len:
                raise Invalid(f"第 {parts.index(part) + 1} 条内容过长（{len(part)} 个字符，最多 {max_len} 个）")
        return parts

    return parse


def uscc_list(value: Any) -> list[str]:
    out: list[str] = []
    for n, part in enumerate(split_list(value), start=1):
        try:
            out.append(uscc(part))
        except Invalid as exc:
            raise Invalid(f"第 {n} 个代码{exc}") from None
    return sorted(set(out))


def _short(s: str, limit: int = 40) -> str:
    return s if len(s) <= limit else s[:limit] + "…"


# --- the directories ------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    alias: str
    parse: Callable[[Any], Any]  # a function of the cell alone: the importer reuses its value for an equal cell
    required: bool = False
    references: str | None = None  # "departments": must name a known department
    default: Any = None  # the value of a blank cell
    multiline: bool = False  # may hold tabs and line breaks (free text, lists); names, addresses, codes never


@dataclass(frozen=True)
class Directory:
    kind: str
    label: str  # what a clerk calls one row: 企业, 执法人员 …
    key: str
    columns: tuple[Column, ...]
    row_rules: tuple[Callable[[dict[str, Any]], tuple[str, str] | None], ...] = ()
    informational: tuple[str, ...] = ()  # headers of columns we write for people to read: ignored without a warning

    def column(self, alias: str) -> Column:
        return next(c for c in self.columns if c.alias == alias)

    def match_header(self, cell: str) -> Column | None:
        wanted = normalise_header(cell)
        for col in self.columns:
            if wanted in (normalise_header(col.header), col.alias.lower()):
                return col
        return None

    def looks_like_header(self, cells: list[str]) -> bool:
        return sum(1 for c in cells if self.match_header(c)) >= 2 or any(
            self.match_header(c) and self.match_header(c).alias == self.key for c in cells
        )


def _capital_unless_individual(record: dict[str, Any]) -> tuple[str, str] | None:
    if record.get("registered_capital") is None and record.get("category") not in (None, "个体工商户"):
        return "registered_capital", "必填（个体工商户以外的主体须填写注册资本）"
    return None


def _rows_without_capital(columns: dict[str, list[Any]], rows: int) -> list[int] | range:
    """The rows of a batch (given by column) ``_capital_unless_individual`` may refuse: those with no capital."""
    capital = columns.get("registered_capital")
    if capital is None:
        return range(rows)
    return [i for i, value in enumerate(capital) if value is None] if None in capital else []


_capital_unless_individual.suspects = _rows_without_capital  # see ``importing.parse_batch``


ENTERPRISES = Directory("enterprises", "企业", "uscc", columns=(
    Column("统一社会信用代码", "uscc", uscc, required=True),
    Column("企业名称", "name", text(200), required=True),
    Column("主体类别", "category", choice(ENTERPRISE_CATEGORIES), required=True),
    Column("企业类型", "kind", text(100)),
    Column("注册资本（万元）", "registered_capital", decimal_non_negative),
    Column("成立日期", "established_on", parse_date, required=True),
    Column("登记状态", "status", choice(ENTERPRISE_STATUSES), required=True),
    Column("所属区域", "district", text(100)),
    Column("住所", "address", text(500)),
    Column("法定代表人", "legal_representative", text(100)),
    Column("联系电话", "phone", phone),
    Column("行业", "industry", text(200)),
    Column("信用风险分类", "credit_risk", choice(CREDIT_RISKS)),
), row_rules=(_capital_unless_individual,))

OFFICERS = Directory("officers", "执法检查人员", "certificate_no", columns=(
    Column("执法证号", "certificate_no", code, required=True),
    Column("姓名", "name", text(50), required=True),
    Column("部门代码", "department", code, required=True, references="departments"),
    Column("手机号码", "mobile", mobile),
    Column("电子邮箱", "email", email),
    Column("执法证有效期至", "certificate_valid_until", parse_date, required=True),
    Column("状态", "status", choice(OFFICER_STATUSES), default="在岗"),
    Column("专长", "specialties", text_list(20, 100), multiline=True),
    Column("回避企业", "conflicts", uscc_list, multiline=True),
))

DEPARTMENTS = Directory("departments", "部门", "code", columns=(
    Column("部门代码", "code", code, required=True),
    Column("部门名称", "name", text(100), required=True),
    Column("管理员", "admin_name", text(50)),
    Column("管理员邮箱", "admin_email", email),
    Column("分管领导", "leader_name", text(50)),
    Column("分管领导邮箱", "leader_email", email),
    Column("责任科室", "responsible_section", text(100)),
    Column("联络人", "contact_name", text(50)),
    Column("联络人电话", "contact_phone", phone),
    Column("联络人邮箱", "contact_email", email),
))

ITEMS = Directory("items", "抽查事项", "code", columns=(
    Column("事项编码", "code", code, required=True),
    Column("部门代码", "department", code, required=True, references="departments"),
    Column("抽查类别", "category", text(100)),
    Column("抽查事项", "name", text(200), required=True),
    Column("检查对象", "target", text(200)),
    Column("事项类别", "level", choice(ITEM_LEVELS)),
    Column("检查方式", "method", text(200)),
    Column("检查依据", "basis", text(2000), multiline=True),
    Column("检查内容", "contents", text_list(100, 1000), required=True, multiline=True),
))

DIRECTORIES = {d.kind: d for d in (ENTERPRISES, OFFICERS, DEPARTMENTS, ITEMS)}
