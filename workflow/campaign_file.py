"""The campaign file (TOML, FORMATS.md): parsed into a plan, or refused with key paths.

Every problem names its key path (``deadlines.backfill.after``) and says in
Chinese what is wrong; unknown keys, deadline forms and events are refused, so
a typo never silently drops a legal deadline. Local date-times carry no offset
and are read in the campaign's timezone.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.directory import CREDIT_RISKS, ENTERPRISE_CATEGORIES, ENTERPRISE_STATUSES

DEADLINE_NAMES = (
    "confirm",
    "confirmation_report",
    "acknowledge",
    "visit",
    "backfill",
    "summary",
    "publish",
)
REQUIRED_DEADLINES = ("confirm", "acknowledge", "visit", "backfill", "publish")
DEADLINE_LABELS = {
    "confirm": "部门比对确认",
    "confirmation_report": "盖章确认情况报送",
    "acknowledge": "执法人员接收一企一表",
    "visit": "实地核查",
    "backfill": "结果回填",
    "summary": "总结、统计表报送",
    "publish": "结果公示",
}
EVENTS = ("draw", "dispatch", "officers_drawn", "forms_dispatched", "visit", "reported")
LADDER_STEPS = ("responsible", "department_contact", "department_leader", "office")
ROUNDING = ("ceil", "floor", "half_up")
UNCLASSIFIED = "未分类"

_RULE = re.compile(r"^\s*(\d{1,3})\s+(workday|workdays|day|days)\s*$")
_DAYS = re.compile(r"^\s*(\d{1,4})\s+(day|days)\s*$")
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CampaignFileError(ValueError):
    """The file cannot be a campaign; ``problems`` are (key path, Chinese message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems

    def lines(self, path: str) -> list[str]:
        return [f"{path}: {key}: {message}" if key else f"{path}: {message}" for key, message in self.problems]


# --- the plan -------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A period: ``n`` working days or ``n`` calendar days."""

    n: int
    workdays: bool

    def __str__(self) -> str:
        return f"{self.n} {'workday' if self.workdays else 'day'}{'s' if self.n != 1 else ''}"

    def chinese(self) -> str:
        return f"{self.n}个工作日" if self.workdays else f"{self.n}日"


@dataclass(frozen=True)
class DeadlineSpec:
    """One deadline as the file writes it; ``form`` is within | at | on | window."""

    name: str
    form: str
    rule: Rule | None = None
    after: str | None = None
    at: datetime | None = None
    on: date | None = None
    start: date | None = None
    end: date | None = None
    cutoff: time | None = None
    statutory: bool = False

    def describe(self) -> str:
        cut = f" {self.cutoff:%H:%M} 前" if self.cutoff else ""
        if self.form == "within":
            return f"{EVENT_LABELS[self.after]}后{self.rule.chinese()}内{cut}"
        if self.form == "at":
            return f"{self.at:%Y-%m-%d %H:%M} 前"
        if self.form == "on":
            return f"{self.on:%Y-%m-%d}{cut or ' 当日'}结束前"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}{cut}"


EVENT_LABELS = {
    "draw": "抽取",
    "dispatch": "派发",
    "officers_drawn": "执法人员抽取",
    "forms_dispatched": "一企一表派发",
    "visit": "实地核查",
    "reported": "结果回填完成",
}


@dataclass(frozen=True)
class Stratum:
    credit_risk: str
    ratio: Decimal


@dataclass(frozen=True)
class Sampling:
    categories: tuple[str, ...]
    statuses: tuple[str, ...]
    capital_min: Decimal | None
    capital_max: Decimal | None
    ratio: Decimal
    ratio_text: str
    rounding: str
    minimum: int
    exclude_inspected_within_days: int | None
    strata: tuple[Stratum, ...] = ()


@dataclass(frozen=True)
class ParticipatingDepartment:
    code: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Matching:
    officers_per_enterprise: int
    per_department_minimum: int
    conflict_window_days: int
    max_visits_per_officer_per_day: int
    vehicles: int


@dataclass(frozen=True)
class Escalation:
    remind_before: Rule
    grace: Rule
    ladder: tuple[str, ...]


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class CampaignPlan:
    code: str
    name: str
    document_no: str
    basis: str
    office: str
    lead_department: str
    item_list_edition: str
    timezone: str
    window_from: date
    window_to: date
    draw_at: datetime  # aware, in the campaign's timezone
    contact: Contact
    office_staff: tuple[str, ...]
    plan_no: str
    plan_name: str
    task_no: str
    notice_no: int
    calendar_files: tuple[str, ...]
    provisional_calendar: bool
    sampling: Sampling
    departments: tuple[ParticipatingDepartment, ...]
    matching: Matching
    deadlines: dict[str, DeadlineSpec]
    escalation: Escalation
    email_sender: str
    email_office: str
    extras: dict[str, Any] = field(default_factory=dict)
    # The override files its deadlines were last computed with, as stored (JSON [[name, text], …]): the calendar
    # that stays in force when a file is later found broken.
    calendar_snapshot: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def department_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.departments)

    @property
    def office_mailboxes(self) -> list[str]:
        """Where mail for the office goes: its mailbox, then each staff member (each once)."""
        return list(dict.fromkeys(e for e in (self.email_office, *self.office_staff) if e))

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, stored with the campaign (dates as ISO strings)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- reading --------------------------------------------------------------


class _Reader:
    """Walks the parsed TOML, collecting every problem with its key path."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def table(self, parent: dict, key: str, path: str, allowed: tuple[str, ...], required: bool = True) -> dict | None:
        where = f"{path}.{key}" if path else key
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(where, "缺少此项")
            return None
        if not isinstance(value, dict):
            self.fail(where, "应为表（[section] 或 { … }）")
            return None
        for unknown in sorted(set(value) - set(allowed)):
            self.fail(f"{where}.{unknown}", "未知的键（请检查拼写）")
        return value

    def get(self, table: dict | None, key: str, path: str, kind: str, required: bool = True, default: Any = None):
        where = f"{path}.{key}"
        if table is None:
            return default
        if key not in table:
            if required:
                self.fail(where, "缺少此项")
            return default
        value = table[key]
        checker = _KINDS[kind]
        ok, converted, message = checker(value)
        if not ok:
            self.fail(where, f"{message}，实际为 {_show(value)}")
            return default
        return converted


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _k_str(v):
    return (isinstance(v, str) and v.strip() != "", v.strip() if isinstance(v, str) else v, "应为非空字符串")


def _k_str_any(v):
    return (isinstance(v, str), v, "应为字符串")


def _k_code(v):
    ok = isinstance(v, str) and bool(_CODE.match(v))
    return (ok, v, "应为编码（字母、数字、- _ .，不超过 64 个字符）")


def _k_email(v):
    ok = isinstance(v, str) and bool(_EMAIL.match(v.strip()))
    return (ok, v.strip() if isinstance(v, str) else v, "应为电子邮箱地址")


def _k_bool(v):
    return (isinstance(v, bool), v, "应为 true 或 false")


def _k_pos_int(v):
    return (isinstance(v, int) and not isinstance(v, bool) and v >= 1, v, "应为正整数")


def _k_nonneg_int(v):
    return (isinstance(v, int) and not isinstance(v, bool) and v >= 0, v, "应为非负整数")


def _k_date(v):
    return (isinstance(v, date) and not isinstance(v, datetime), v, "应为日期（如 2019-12-09，不加引号）")


def _k_local_datetime(v):
    ok = isinstance(v, datetime) and v.tzinfo is None
    return (ok, v, "应为不带时区的本地日期时间（如 2019-11-27T09:00:00，不加引号）")


def _k_amount(v):
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return (False, v, "应为不小于 0 的数（万元）")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        return (False, v, "应为不小于 0 的数（万元）")
    return (d.is_finite() and d >= 0, d, "应为不小于 0 的数（万元）")


def _k_ratio(v):
    message = "应为比例字符串，如 \"1%\" 或 \"0.01\"（大于 0，不超过 100%）"
    if not isinstance(v, str):
        return (False, v, message)
    s = unicodedata.normalize("NFKC", v).strip()
    try:
        d = Decimal(s[:-1]) / 100 if s.endswith("%") else Decimal(s)
    except InvalidOperation:
        return (False, v, message)
    return (d.is_finite() and 0 < d <= 1, (d, s), message)


def _k_rule(v):
    m = _RULE.match(v) if isinstance(v, str) else None
    if not m or int(m[1]) == 0:
        return (False, v, "应为 \"N workdays\" 或 \"N days\"（N 为正整数）")
    return (True, Rule(int(m[1]), m[2].startswith("workday")), "")


def _k_days(v):
    m = _DAYS.match(v) if isinstance(v, str) else None
    return (bool(m), int(m[1]) if m else v, "应为 \"N days\"（如 \"365 days\"）")


def _k_cutoff(v):
    m = _CUTOFF.match(v) if isinstance(v, str) else None
    return (bool(m), time(int(m[1]), int(m[2])) if m else v, "应为 \"HH:MM\"（如 \"17:00\"）")


def _k_str_list(v):
    ok = isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)
    return (ok, tuple(x.strip() for x in v) if ok else v, "应为字符串列表")


def _k_timezone(v):
    if not isinstance(v, str):
        return (False, v, "应为时区名称（如 Asia/Shanghai）")
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        return (False, v, "不是已知的时区名称（如 Asia/Shanghai）")
    return (True, v, "")


_KINDS = {
    "str": _k_str,
    "str_any": _k_str_any,
    "code": _k_code,
    "email": _k_email,
    "bool": _k_bool,
    "pos_int": _k_pos_int,
    "nonneg_int": _k_nonneg_int,
    "date": _k_date,
    "local_datetime": _k_local_datetime,
    "amount": _k_amount,
    "ratio": _k_ratio,
    "rule": _k_rule,
    "days": _k_days,
    "cutoff": _k_cutoff,
    "str_list": _k_str_list,
    "timezone": _k_timezone,
}

_CAMPAIGN_KEYS = (
    "code", "name", "document_no", "basis", "office", "lead_department", "item_list_edition",
    "timezone", "window", "draw_at", "contact", "office_staff", "plan_no", "plan_name", "task_no",
    "notice_no", "calendar_files", "provisional_calendar",
)
_SAMPLING_KEYS = (
    "categories", "statuses", "capital_min", "capital_max", "ratio", "rounding", "minimum",
    "exclude_inspected_within", "strata",
)
_MATCHING_KEYS = (
    "officers_per_enterprise", "per_department_minimum", "conflict_window",
    "max_visits_per_officer_per_day", "vehicles",
)


def parse_campaign(source: str) -> CampaignPlan:
    """The plan of a campaign file's text, or CampaignFileError with every problem."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError([("", f"TOML 语法错误：{_toml_message(exc)}")]) from None
    r = _Reader()
    for unknown in sorted(set(data) - {"campaign", "sampling", "departments", "matching", "deadlines", "escalation", "email"}):
        r.fail(unknown, "未知的节（请检查拼写）")

    c = r.table(data, "campaign", "", _CAMPAIGN_KEYS)
    p = "campaign"
    code = r.get(c, "code", p, "code")
    name = r.get(c, "name", p, "str")
    document_no = r.get(c, "document_no", p, "str")
    timezone = r.get(c, "timezone", p, "timezone", required=False, default="Asia/Shanghai")
    tz = ZoneInfo(timezone)
    window = r.table(c or {}, "window", p, ("from", "to"))
    window_from = r.get(window, "from", f"{p}.window", "date")
    window_to = r.get(window, "to", f"{p}.window", "date")
    if window_from and window_to and window_to < window_from:
        r.fail(f"{p}.window", f"结束日期 {window_to} 早于开始日期 {window_from}")
    draw_at_local = r.get(c, "draw_at", p, "local_datetime")
    contact_t = r.table(c or {}, "contact", p, ("name", "phone", "email", "address"), required=False)
    contact = Contact(
        name=r.get(contact_t, "name", f"{p}.contact", "str_any", required=False, default=""),
        phone=r.get(contact_t, "phone", f"{p}.contact", "str_any", required=False, default=""),
        email=r.get(contact_t, "email", f"{p}.contact", "email", required=False, default=""),
        address=r.get(contact_t, "address", f"{p}.contact", "str_any", required=False, default=""),
    )
    office_staff = r.get(c, "office_staff", p, "str_list", required=False, default=())
    for i, who in enumerate(office_staff or ()):
        if not _EMAIL.match(who):
            r.fail(f"{p}.office_staff[{i}]", f"应为电子邮箱地址，实际为 “{who}”")

    s = r.table(data, "sampling", "", _SAMPLING_KEYS)
    sp = "sampling"
    categories = r.get(s, "categories", sp, "str_list")
    for i, cat in enumerate(categories or ()):
        if cat not in ENTERPRISE_CATEGORIES:
            r.fail(f"{sp}.categories[{i}]", f"“{cat}”不是主体类别（应为 {'、'.join(ENTERPRISE_CATEGORIES)} 之一）")
    if categories == ():
        r.fail(f"{sp}.categories", "至少列出一个主体类别")
    statuses = r.get(s, "statuses", sp, "str_list")
    for i, st in enumerate(statuses or ()):
        if st not in ENTERPRISE_STATUSES:
            r.fail(f"{sp}.statuses[{i}]", f"“{st}”不是登记状态（应为 {'、'.join(ENTERPRISE_STATUSES)} 之一）")
    if statuses == ():
        r.fail(f"{sp}.statuses", "至少列出一个登记状态")
    capital_min = r.get(s, "capital_min", sp, "amount", required=False)
    capital_max = r.get(s, "capital_max", sp, "amount", required=False)
    if capital_min is not None and capital_max is not None and capital_max < capital_min:
        r.fail(f"{sp}.capital_max", f"上限 {capital_max} 小于下限 {capital_min}")
    ratio = r.get(s, "ratio", sp, "ratio")
    rounding = r.get(s, "rounding", sp, "str", required=False, default="ceil")
    if rounding not in ROUNDING:
        r.fail(f"{sp}.rounding", f"应为 ceil、floor 或 half_up，实际为 {_show(rounding)}")
    minimum = r.get(s, "minimum", sp, "nonneg_int", required=False, default=1)
    exclude_days = r.get(s, "exclude_inspected_within", sp, "days", required=False)
    strata: list[Stratum] = []
    raw_strata = (s or {}).get("strata", [])
    if not isinstance(raw_strata, list):
        r.fail(f"{sp}.strata", "应为 [[sampling.strata]] 表数组")
        raw_strata = []
    seen_strata: set[str] = set()
    for i, st in enumerate(raw_strata):
        sp_i = f"{sp}.strata[{i}]"
        if not isinstance(st, dict):
            r.fail(sp_i, "应为表")
            continue
        for unknown in sorted(set(st) - {"credit_risk", "ratio"}):
            r.fail(f"{sp_i}.{unknown}", "未知的键（请检查拼写）")
        risk = r.get(st, "credit_risk", sp_i, "str")
        if risk is not None and risk not in CREDIT_RISKS + (UNCLASSIFIED,):
            r.fail(f"{sp_i}.credit_risk", f"应为 A、B、C、D 或 {UNCLASSIFIED}，实际为 {_show(risk)}")
        elif risk in seen_strata:
            r.fail(f"{sp_i}.credit_risk", f"分层“{risk}”重复")
        seen_strata.add(risk)
        st_ratio = r.get(st, "ratio", sp_i, "ratio")
        if risk and st_ratio:
            strata.append(Stratum(risk, st_ratio[0]))

    departments: list[ParticipatingDepartment] = []
    raw_depts = data.get("departments")
    if raw_depts is None:
        r.fail("departments", "缺少参加部门（[[departments]]）")
        raw_depts = []
    elif not isinstance(raw_depts, list):
        r.fail("departments", "应为 [[departments]] 表数组")
        raw_depts = []
    seen_codes: set[str] = set()
    seen_items: dict[str, str] = {}
    for i, d in enumerate(raw_depts):
        dp = f"departments[{i}]"
        if not isinstance(d, dict):
            r.fail(dp, "应为表")
            continue
        for unknown in sorted(set(d) - {"code", "items"}):
            r.fail(f"{dp}.{unknown}", "未知的键（请检查拼写）")
        dcode = r.get(d, "code", dp, "code")
        items = r.get(d, "items", dp, "str_list")
        if items == ():
            r.fail(f"{dp}.items", "至少列出一个抽查事项")
        if dcode in seen_codes:
            r.fail(f"{dp}.code", f"部门“{dcode}”重复")
        seen_codes.add(dcode)
        for item in items or ():
            if item in seen_items:
                r.fail(f"{dp}.items", f"抽查事项“{item}”已列在部门“{seen_items[item]}”下")
            seen_items[item] = dcode
        if dcode and items:
            departments.append(ParticipatingDepartment(dcode, tuple(items)))

    lead = r.get(c, "lead_department", p, "code")
    if lead and seen_codes and lead not in seen_codes:
        r.fail(f"{p}.lead_department", f"牵头部门“{lead}”不在参加部门（[[departments]]）中")

    m = r.table(data, "matching", "", _MATCHING_KEYS)
    mp = "matching"
    per_enterprise = r.get(m, "officers_per_enterprise", mp, "pos_int", required=False, default=2)
    if per_enterprise is not None and per_enterprise < 2:
        r.fail(f"{mp}.officers_per_enterprise", f"实地核查检查人员不少于 2 人，实际为 {per_enterprise}")
    matching = Matching(
        officers_per_enterprise=per_enterprise,
        per_department_minimum=r.get(m, "per_department_minimum", mp, "pos_int", required=False, default=1),
        conflict_window_days=r.get(m, "conflict_window", mp, "days", required=False, default=365),
        max_visits_per_officer_per_day=r.get(m, "max_visits_per_officer_per_day", mp, "pos_int", required=False, default=3),
        vehicles=r.get(m, "vehicles", mp, "pos_int", required=False, default=1),
    )

    dl = r.table(data, "deadlines", "", DEADLINE_NAMES)
    deadlines: dict[str, DeadlineSpec] = {}
    for dname in DEADLINE_NAMES:
        if dl is None:
            break
        if dname not in dl:
            if dname in REQUIRED_DEADLINES:
                r.fail(f"deadlines.{dname}", f"缺少此项（{DEADLINE_LABELS[dname]}的期限）")
            continue
        spec = _deadline(r, dname, dl[dname], tz)
        if spec:
            deadlines[dname] = spec
    if "visit" in deadlines and deadlines["visit"].form != "window":
        r.fail("deadlines.visit", "实地核查应写为时间段：{ from = 日期, to = 日期 }")

    e = r.table(data, "escalation", "", ("remind_before", "grace", "ladder"))
    ep = "escalation"
    ladder = r.get(e, "ladder", ep, "str_list", required=False, default=LADDER_STEPS)
    for i, step in enumerate(ladder or ()):
        if step not in LADDER_STEPS:
            r.fail(f"{ep}.ladder[{i}]", f"“{step}”不是督办层级（应为 {', '.join(LADDER_STEPS)} 之一）")
    if ladder is not None and len(set(ladder)) != len(ladder):
        r.fail(f"{ep}.ladder", "督办层级不能重复")
    if ladder == ():
        r.fail(f"{ep}.ladder", "至少列出一个督办层级")
    escalation = Escalation(
        remind_before=r.get(e, "remind_before", ep, "rule", required=False, default=Rule(1, True)),
        grace=r.get(e, "grace", ep, "rule", required=False, default=Rule(1, True)),
        ladder=tuple(ladder or ()),
    )

    em = r.table(data, "email", "", ("sender", "office"))
    sender = r.get(em, "sender", "email", "email")
    office_mail = r.get(em, "office", "email", "email")

    office = r.get(c, "office", p, "str")
    basis = r.get(c, "basis", p, "str", required=False, default="")
    edition = r.get(c, "item_list_edition", p, "str", required=False, default="")
    plan_no = r.get(c, "plan_no", p, "str", required=False)
    plan_name = r.get(c, "plan_name", p, "str", required=False)
    task_no = r.get(c, "task_no", p, "str", required=False)
    notice_no = r.get(c, "notice_no", p, "pos_int", required=False, default=1)
    calendar_files = r.get(c, "calendar_files", p, "str_list", required=False, default=())
    provisional = r.get(c, "provisional_calendar", p, "bool", required=False, default=False)

    if r.problems:
        raise CampaignFileError(r.problems)

    return CampaignPlan(
        code=code,
        name=name,
        document_no=document_no,
        basis=basis,
        office=office,
        lead_department=lead,
        item_list_edition=edition,
        timezone=timezone,
        window_from=window_from,
        window_to=window_to,
        draw_at=draw_at_local.replace(tzinfo=tz),
        contact=contact,
        office_staff=tuple(office_staff),
        plan_no=plan_no or document_no,
        plan_name=plan_name or name,
        task_no=task_no or code,
        notice_no=notice_no,
        calendar_files=tuple(calendar_files),
        provisional_calendar=provisional,
        sampling=Sampling(
            categories=tuple(categories),
            statuses=tuple(statuses),
            capital_min=capital_min,
            capital_max=capital_max,
            ratio=ratio[0],
            ratio_text=ratio[1],
            rounding=rounding,
            minimum=minimum,
            exclude_inspected_within_days=exclude_days,
            strata=tuple(strata),
        ),
        departments=tuple(departments),
        matching=matching,
        deadlines=deadlines,
        escalation=escalation,
        email_sender=sender,
        email_office=office_mail,
    )


_DEADLINE_FORMS = {
    "within": ({"within", "after"}, {"cutoff", "statutory"}),
    "at": ({"at"}, {"statutory"}),
    "on": ({"on"}, {"cutoff", "statutory"}),
    "window": ({"from", "to"}, {"cutoff", "statutory"}),
}


def _deadline(r: _Reader, name: str, raw: Any, tz: ZoneInfo) -> DeadlineSpec | None:
    path = f"deadlines.{name}"
    if not isinstance(raw, dict):
        r.fail(path, "应为表，如 { within = \"2 workdays\", after = \"dispatch\" }")
        return None
    keys = set(raw)
    form = next((f for f, (need, _) in _DEADLINE_FORMS.items() if need <= keys), None)
    if form is None:
        r.fail(path, "无法识别的期限形式（应为 within+after、at、on 或 from+to 之一）")
        return None
    need, optional = _DEADLINE_FORMS[form]
    for unknown in sorted(keys - need - optional):
        r.fail(f"{path}.{unknown}", "此期限形式不接受该键")
    before = len(r.problems)
    cutoff = r.get(raw, "cutoff", path, "cutoff", required=False)
    statutory = r.get(raw, "statutory", path, "bool", required=False, default=False)
    spec = DeadlineSpec(name=name, form=form, cutoff=cutoff, statutory=statutory)
    if form == "within":
        rule = r.get(raw, "within", path, "rule")
        after = raw.get("after")
        if after not in EVENTS:
            r.fail(f"{path}.after", f"未知的事件 {_show(after)}（应为 {', '.join(EVENTS)} 之一）")
        spec = DeadlineSpec(name=name, form=form, rule=rule, after=after, cutoff=cutoff, statutory=statutory)
    elif form == "at":
        at = r.get(raw, "at", path, "local_datetime")
        spec = DeadlineSpec(name=name, form=form, at=at.replace(tzinfo=tz) if at else None, statutory=statutory)
    elif form == "on":
        spec = DeadlineSpec(name=name, form=form, on=r.get(raw, "on", path, "date"), cutoff=cutoff, statutory=statutory)
    else:
        start = r.get(raw, "from", path, "date")
        end = r.get(raw, "to", path, "date")
        if start and end and end < start:
            r.fail(path, f"结束日期 {end} 早于开始日期 {start}")
        spec = DeadlineSpec(name=name, form=form, start=start, end=end, cutoff=cutoff, statutory=statutory)
    return spec if len(r.problems) == before else None


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    text = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if m:
        return f"第 {m[1]} 行第 {m[2]} 列：{text[: m.start()].strip()}"
    return text
