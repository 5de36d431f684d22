"""The campaign file (TOML, FORMATS.md): parsed into a plan, or refused with key paths.

Every problem names its key path (``deadlines.backfill.after``) and says in
Chinese what is wrong; unknown keys, deadline forms and events are refused, so
a typo never silently drops a legal deadline. Local date-times carry no offset
and are read in the campaign's timezone.

The file's sections and keys are declared once below (``CAMPAIGN_FILE``), each
key with its kind (``workflow.campaign_values``); ``_read`` walks the
declarations, and the rules that tie several keys together are the named
checks beside them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator
from zoneinfo import ZoneInfo

from workflow import campaign_values as kinds
from workflow.campaign_plan import (  # the plan's names are read from here too
    DEADLINE_LABELS, DEADLINE_NAMES, EVENT_LABELS, EVENTS, LADDER_STEPS, REQUIRED_DEADLINES, ROUNDING, UNCLASSIFIED,
    CampaignPlan, Contact, DeadlineSpec, Escalation, Matching, ParticipatingDepartment, Rule, Sampling, Stratum,
)
from workflow.directory import CREDIT_RISKS, ENTERPRISE_CATEGORIES, ENTERPRISE_STATUSES, Invalid
from workflow.text_rules import control_character, visible

__all__ = [
    "DEADLINE_LABELS", "DEADLINE_NAMES", "EVENT_LABELS", "EVENTS", "LADDER_STEPS", "REQUIRED_DEADLINES", "ROUNDING",
    "UNCLASSIFIED", "CampaignFileError", "CampaignPlan", "Contact", "DeadlineSpec", "Escalation", "Matching",
    "ParticipatingDepartment", "Rule", "Sampling", "Stratum", "parse_campaign",
]

Problem = tuple[str, str]  # (key path, Chinese message)
Check = Callable[[Any], Iterable[Problem]]  # a read value in, problems out with key paths relative to it


class CampaignFileError(ValueError):
    """The file cannot be a campaign; ``problems`` are (key path, Chinese message)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems

    def lines(self, path: str) -> list[str]:
        return [f"{path}: {key}: {message}" if key else f"{path}: {message}" for key, message in self.problems]


# --- declarations ---------------------------------------------------------
#
# A declaration reads the value its key holds: a Field one value of a kind, a
# Section a table of declarations, Rows an array of tables, Forms a table in one
# of several forms. Each carries checks run on what it read; a check yields
# (key, message) with the key relative to the declaration ("" for itself).

_MISSING = "缺少此项"


@dataclass(frozen=True, kw_only=True)
class Declaration:
    """Besides its key: must the key be there, what to say when it is not, the checks on what was read."""

    required: bool = True
    missing: str = _MISSING
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Field(Declaration):
    key: str
    kind: kinds.Kind
    default: Any = None  # the value when absent or refused


@dataclass(frozen=True)
class Section(Declaration):
    key: str
    parts: tuple[Declaration, ...]
    expected: str = "应为表（[section] 或 { … }）"
    unknown: str = "未知的键（请检查拼写）"
    container: ClassVar[type] = dict

    @property
    def default(self) -> dict[str, Any]:
        return {part.key: part.default for part in self.parts}

    @property
    def needs(self) -> frozenset[str]:
        return frozenset(part.key for part in self.parts if part.required)


@dataclass(frozen=True)
class Rows(Declaration):
    key: str
    row: Section
    expected: str
    default: ClassVar[tuple] = ()
    container: ClassVar[type] = list


@dataclass(frozen=True)
class Forms(Declaration):
    """A table in the first of ``forms`` whose required keys it has; reads as (form, values)."""

    key: str
    forms: tuple[Section, ...]
    expected: str
    unrecognised: str
    default: ClassVar[None] = None
    container: ClassVar[type] = dict


def _at(path: str, key: str) -> str:
    """The key path of ``key`` below ``path``: ``a.b``, ``a[0]``, or ``a`` itself for ""."""
    if not key:
        return path
    return f"{path}{key}" if key.startswith("[") or not path else f"{path}.{key}"


def _read(node: Declaration, raw: Any, where: str, problems: list[Problem]) -> Any:
    """What ``raw`` (found at ``where``) holds as ``node`` declares it; every problem goes to ``problems``."""
    if isinstance(node, Field):
        refused = _control_characters(raw, where)
        if refused:
            problems.extend(refused)
            return node.default
        try:
            value = node.kind(raw)
        except Invalid as exc:
            problems.append((where, str(exc)))
            return node.default
    elif not isinstance(raw, node.container):
        problems.append((where, node.expected))
        return node.default
    elif isinstance(node, Forms):
        form = next((f for f in node.forms if f.needs <= raw.keys()), None)
        if form is None:
            problems.append((where, node.unrecognised))
            return node.default
        value = form.key, _read(form, raw, where, problems)
    elif isinstance(node, Rows):
        value = [_read(node.row, item, f"{where}[{i}]", problems) for i, item in enumerate(raw)]
    else:
        problems.extend((_at(where, visible(key)), node.unknown)
                        for key in sorted(set(raw) - {p.key for p in node.parts}))
        value = {}
        for part in node.parts:
            here = _at(where, part.key)
            if part.key in raw:
                value[part.key] = _read(part, raw[part.key], here, problems)
            else:
                if part.required:
                    problems.append((here, part.missing))
                value[part.key] = part.default
    problems.extend((_at(where, key), message) for check in node.checks for key, message in check(value))
    return value


def _control_characters(raw: Any, where: str) -> list[Problem]:
    """A string, or each string of a list, holding a character no campaign value may (every value is one line)."""
    if isinstance(raw, str):
        texts = [(where, raw)]
    elif isinstance(raw, list):
        texts = [(f"{where}[{i}]", x) for i, x in enumerate(raw) if isinstance(x, str)]
    else:
        return []
    return [(at, refused) for at, text in texts if (refused := control_character(text))]


# --- checks ---------------------------------------------------------------


def each(kind: kinds.Kind) -> Check:
    """Every entry of a list is of ``kind``; a refused entry is named by its index."""

    def check(values: tuple) -> Iterator[Problem]:
        for i, value in enumerate(values):
            try:
                kind(value)
            except Invalid as exc:
                yield f"[{i}]", str(exc)

    return check


def not_empty(message: str) -> Check:
    def check(values: tuple) -> Iterator[Problem]:
        if not values:
            yield "", message

    return check


def _repeated(values: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """(index, value) of each value (None aside) that an earlier one already was."""
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            yield i, value
        if value is not None:
            seen.add(value)


def _ends_after_start(span: dict[str, Any]) -> Iterator[Problem]:
    start, end = span["from"], span["to"]
    if start and end and end < start:
        yield "", f"结束日期 {end} 早于开始日期 {start}"


def _capital_bounds_in_order(sampling: dict[str, Any]) -> Iterator[Problem]:
    low, high = sampling["capital_min"], sampling["capital_max"]
    if low is not None and high is not None and high < low:
        yield "capital_max", f"上限 {high} 小于下限 {low}"


def _strata_distinct(strata: list[dict[str, Any]]) -> Iterator[Problem]:
    for i, risk in _repeated(s["credit_risk"] for s in strata):
        yield f"[{i}].credit_risk", f"分层“{risk}”重复"


def _departments_distinct(departments: list[dict[str, Any]]) -> Iterator[Problem]:
    for i, code in _repeated(d["code"] for d in departments):
        yield f"[{i}].code", f"部门“{code}”重复"


def _items_listed_once(departments: list[dict[str, Any]]) -> Iterator[Problem]:
    listed_under: dict[str, str] = {}
    for i, dept in enumerate(departments):
        for item in dept["items"] or ():
            if item in listed_under:
                yield f"[{i}].items", f"抽查事项“{item}”已列在部门“{listed_under[item]}”下"
            listed_under[item] = dept["code"]


def _two_officers_at_least(officers: int) -> Iterator[Problem]:
    if officers < 2:
        yield "", f"实地核查检查人员不少于 2 人，实际为 {officers}"


def _ladder_steps_distinct(ladder: tuple[str, ...]) -> Iterator[Problem]:
    if len(set(ladder)) != len(ladder):
        yield "", "督办层级不能重复"


def _visit_is_a_window(deadlines: dict[str, Any]) -> Iterator[Problem]:
    visit = deadlines["visit"]
    if visit and visit[0] != "window":
        yield "visit", "实地核查应写为时间段：{ from = 日期, to = 日期 }"


def _lead_department_takes_part(document: dict[str, Any]) -> Iterator[Problem]:
    lead = document["campaign"]["lead_department"]
    taking_part = {d["code"] for d in document["departments"]} - {None}
    if lead and taking_part and lead not in taking_part:
        yield "campaign.lead_department", f"牵头部门“{lead}”不在参加部门（[[departments]]）中"


# --- the campaign file ----------------------------------------------------

_SPAN = (Field("from", kinds.day), Field("to", kinds.day))
_CUTOFF = Field("cutoff", kinds.clock_time, required=False)
_STATUTORY = Field("statutory", kinds.flag, required=False, default=False)
_NOT_IN_FORM = "此期限形式不接受该键"

# Tried in this order: a table with both ``within`` and ``at`` is a "within" deadline that refuses ``at``.
DEADLINE_FORMS = (
    Section("within", (Field("within", kinds.period), Field("after", kinds.event), _CUTOFF, _STATUTORY),
            unknown=_NOT_IN_FORM),
    Section("at", (Field("at", kinds.local_datetime), _STATUTORY), unknown=_NOT_IN_FORM),
    Section("on", (Field("on", kinds.day), _CUTOFF, _STATUTORY), unknown=_NOT_IN_FORM),
    Section("window", (*_SPAN, _CUTOFF, _STATUTORY), unknown=_NOT_IN_FORM, checks=(_ends_after_start,)),
)


def _deadline(name: str) -> Forms:
    return Forms(
        name, DEADLINE_FORMS,
        expected="应为表，如 { within = \"2 workdays\", after = \"dispatch\" }",
        unrecognised="无法识别的期限形式（应为 within+after、at、on 或 from+to 之一）",
        required=name in REQUIRED_DEADLINES, missing=f"缺少此项（{DEADLINE_LABELS[name]}的期限）",
    )


CAMPAIGN = Section("campaign", (
    Field("code", kinds.code),
    Field("name", kinds.text),
    Field("document_no", kinds.text),
    Field("timezone", kinds.timezone, required=False, default="Asia/Shanghai"),
    Section("window", _SPAN, checks=(_ends_after_start,)),
    Field("draw_at", kinds.local_datetime),
    Section("contact", (
        Field("name", kinds.any_text, required=False, default=""),
        Field("phone", kinds.any_text, required=False, default=""),
        Field("email", kinds.email, required=False, default=""),
        Field("address", kinds.any_text, required=False, default=""),
    ), required=False),
    Field("office_staff", kinds.text_list, required=False, default=(), checks=(each(kinds.email),)),
    Field("lead_department", kinds.code),
    Field("office", kinds.text),
    Field("basis", kinds.text, required=False, default=""),
    Field("item_list_edition", kinds.text, required=False, default=""),
    Field("plan_no", kinds.text, required=False),  # default: the document number
    Field("plan_name", kinds.text, required=False),  # default: the name
    Field("task_no", kinds.text, required=False),  # default: the code
    Field("notice_no", kinds.positive_int, required=False, default=1),
    Field("calendar_files", kinds.text_list, required=False, default=()),
    Field("provisional_calendar", kinds.flag, required=False, default=False),
))

SAMPLING = Section("sampling", (
    Field("categories", kinds.text_list, checks=(
        each(kinds.member_of(ENTERPRISE_CATEGORIES, "主体类别")), not_empty("至少列出一个主体类别"))),
    Field("statuses", kinds.text_list, checks=(
        each(kinds.member_of(ENTERPRISE_STATUSES, "登记状态")), not_empty("至少列出一个登记状态"))),
    Field("capital_min", kinds.amount, required=False),
    Field("capital_max", kinds.amount, required=False),
    Field("ratio", kinds.ratio),
    Field("rounding", kinds.one_of(ROUNDING, "应为 ceil、floor 或 half_up"), required=False, default="ceil"),
    Field("minimum", kinds.non_negative_int, required=False, default=1),
    Field("exclude_inspected_within", kinds.days, required=False),
    Rows("strata", Section("", (
        Field("credit_risk", kinds.one_of((*CREDIT_RISKS, UNCLASSIFIED),
                                          f"应为 {'、'.join(CREDIT_RISKS)} 或 {UNCLASSIFIED}")),
        Field("ratio", kinds.ratio),
    ), expected="应为表"), expected="应为 [[sampling.strata]] 表数组", required=False, checks=(_strata_distinct,)),
), checks=(_capital_bounds_in_order,))

DEPARTMENTS = Rows("departments", Section("", (
    Field("code", kinds.code),
    Field("items", kinds.text_list, checks=(not_empty("至少列出一个抽查事项"),)),
), expected="应为表"), expected="应为 [[departments]] 表数组", missing="缺少参加部门（[[departments]]）",
    checks=(_departments_distinct, _items_listed_once))

MATCHING = Section("matching", (
    Field("officers_per_enterprise", kinds.positive_int, required=False, default=2, checks=(_two_officers_at_least,)),
    Field("per_department_minimum", kinds.positive_int, required=False, default=1),
    Field("conflict_window", kinds.days, required=False, default=365),
    Field("max_visits_per_officer_per_day", kinds.positive_int, required=False, default=3),
    Field("vehicles", kinds.positive_int, required=False, default=1),
))

DEADLINES = Section("deadlines", tuple(_deadline(name) for name in DEADLINE_NAMES), checks=(_visit_is_a_window,))

ESCALATION = Section("escalation", (
    Field("remind_before", kinds.period, required=False, default=Rule(1, True)),
    Field("grace", kinds.period, required=False, default=Rule(1, True)),
    Field("ladder", kinds.text_list, required=False, default=LADDER_STEPS, checks=(
        each(kinds.member_of(LADDER_STEPS, "督办层级", ", ")), _ladder_steps_distinct, not_empty("至少列出一个督办层级"))),
))

def _two_parties_at_least(parties: tuple[str, ...]) -> Iterator[Problem]:
    if len(parties) < 2:
        yield "", f"至少列出两方（各自提交承诺、公开密钥，任何一方都不能单独决定抽取结果），实际为 {len(parties)} 方"
    for i, _ in _repeated(parties):
        yield f"[{i}]", "抽取参与方重复"
    for i, party in enumerate(parties):
        if "=" in party:
            yield f"[{i}]", f"参与方名称不能含有“=”（命令行写作 名称=十六进制值），实际为 “{party}”"


DRAW = Section("draw", (
    Field("parties", kinds.text_list, checks=(_two_parties_at_least,)),
))

def _hours_in_order(hours: dict[str, Any]) -> Iterator[Problem]:
    if hours["from"] is not None and hours["to"] is not None and hours["from"] >= hours["to"]:
        yield "to", f"办公时间的结束（{hours['to']:%H:%M}）应晚于开始（{hours['from']:%H:%M}）"


EMAIL = Section("email", (
    Field("sender", kinds.email),
    Field("office", kinds.email),
    Section("hours", (Field("from", kinds.clock_time), Field("to", kinds.clock_time)), required=False,
            checks=(_hours_in_order,)),
))

CAMPAIGN_FILE = Section(
    "", (CAMPAIGN, SAMPLING, DEPARTMENTS, MATCHING, DEADLINES, DRAW, ESCALATION, EMAIL),
    unknown="未知的节（请检查拼写）", checks=(_lead_department_takes_part,),
)


# --- parsing --------------------------------------------------------------


def parse_campaign(source: str) -> CampaignPlan:
    """The plan of a campaign file's text, or CampaignFileError with every problem."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError([("", f"TOML 语法错误：{_toml_message(exc)}")]) from None
    problems: list[Problem] = []
    document = _read(CAMPAIGN_FILE, data, "", problems)
    if problems:
        raise CampaignFileError(problems)
    return _plan(document)


def _plan(document: dict[str, Any]) -> CampaignPlan:
    """The plan of a file read without a problem."""
    c, s, m, e = (document[key] for key in ("campaign", "sampling", "matching", "escalation"))
    tz = ZoneInfo(c["timezone"])
    return CampaignPlan(
        code=c["code"],
        name=c["name"],
        document_no=c["document_no"],
        basis=c["basis"],
        office=c["office"],
        lead_department=c["lead_department"],
        item_list_edition=c["item_list_edition"],
        timezone=c["timezone"],
        window_from=c["window"]["from"],
        window_to=c["window"]["to"],
        draw_at=c["draw_at"].replace(tzinfo=tz),
        contact=Contact(**c["contact"]),
        office_staff=c["office_staff"],
        plan_no=c["plan_no"] or c["document_no"],
        plan_name=c["plan_name"] or c["name"],
        task_no=c["task_no"] or c["code"],
        notice_no=c["notice_no"],
        calendar_files=c["calendar_files"],
        provisional_calendar=c["provisional_calendar"],
        sampling=Sampling(
            categories=s["categories"],
            statuses=s["statuses"],
            capital_min=s["capital_min"],
            capital_max=s["capital_max"],
            ratio=s["ratio"][0],
            ratio_text=s["ratio"][1],
            rounding=s["rounding"],
            minimum=s["minimum"],
            exclude_inspected_within_days=s["exclude_inspected_within"],
            strata=tuple(Stratum(row["credit_risk"], row["ratio"][0]) for row in s["strata"]),
        ),
        departments=tuple(ParticipatingDepartment(row["code"], row["items"]) for row in document["departments"]),
        matching=Matching(
            officers_per_enterprise=m["officers_per_enterprise"],
            per_department_minimum=m["per_department_minimum"],
            conflict_window_days=m["conflict_window"],
            max_visits_per_officer_per_day=m["max_visits_per_officer_per_day"],
            vehicles=m["vehicles"],
        ),
        deadlines={name: _deadline_spec(name, *found, tz) for name, found in document["deadlines"].items() if found},
        escalation=Escalation(remind_before=e["remind_before"], grace=e["grace"], ladder=e["ladder"]),
        email_sender=document["email"]["sender"],
        email_office=document["email"]["office"],
        draw_parties=document["draw"]["parties"],
        **({"email_hours_from": document["email"]["hours"]["from"], "email_hours_to": document["email"]["hours"]["to"]}
           if document["email"]["hours"]["from"] else {}),
    )


def _deadline_spec(name: str, form: str, values: dict[str, Any], tz: ZoneInfo) -> DeadlineSpec:
    at = values.get("at")
    return DeadlineSpec(
        name=name, form=form, rule=values.get("within"), after=values.get("after"),
        at=at.replace(tzinfo=tz) if at else None, on=values.get("on"), start=values.get("from"),
        end=values.get("to"), cutoff=values.get("cutoff"), statutory=values["statutory"],
    )


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if m:
        return f"第 {m[1]} 行第 {m[2]} 列：{message[: m.start()].strip()}"
    return message
