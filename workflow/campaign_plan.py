"""A campaign's plan: what its file says, as the rest of the system reads it.

``parse_campaign`` (``workflow.campaign_file``) builds one from the file; the
database keeps ``to_json`` of it beside the file's text, and ``from_json`` reads
that back (dates, times and instants as ISO strings, amounts and ratios as
decimal strings).
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from workflow.deadline_words import day_words
from workflow.office_hours import CLOSES, OPENS, OfficeHours

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
EVENT_LABELS = {
    "draw": "抽取",
    "dispatch": "派发",
    "officers_drawn": "执法人员抽取",
    "forms_dispatched": "一企一表派发",
    "visit": "实地核查",
    "reported": "结果回填完成",
}
LADDER_STEPS = ("responsible", "department_contact", "department_leader", "office")
ROUNDING = ("ceil", "floor", "half_up")
UNCLASSIFIED = "未分类"


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
        """The deadline as the notice writes it: "派发后2个工作日内", "2019年12月2日（星期一）17:00前" …"""
        cut = f"{self.cutoff:%H:%M}前" if self.cutoff else ""
        if self.form == "within":
            return f"{EVENT_LABELS[self.after]}后{self.rule.chinese()}内{' ' + cut if cut else ''}"
        if self.form == "at":
            return f"{day_words(self.at.date())}{self.at:%H:%M}前"
        if self.form == "on":
            return f"{day_words(self.on)}{cut or '前'}"
        return f"{day_words(self.start)}至{day_words(self.end)}{cut}"


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
    """A department taking part, and the items of the list it inspects in this campaign (the reader asks for one)."""

    code: str
    items: tuple[str, ...] = ()


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
    # The parties of ssj-draw-v2 / ssj-match-v2, in the file's order; () for a campaign stored before v2 (v1 draws).
    draw_parties: tuple[str, ...] = ()
    # When mail may go out ([email] hours; on working days only): a plan stored before it takes 08:30–17:30.
    email_hours_from: time = OPENS
    email_hours_to: time = CLOSES
    extras: dict[str, Any] = field(default_factory=dict)
    # The override files its deadlines were last computed with, as stored (JSON [[name, text], …]): the calendar
    # that stays in force when a file is later found broken.
    calendar_snapshot: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def office_hours(self) -> OfficeHours:
        return OfficeHours(self.email_hours_from, self.email_hours_to)

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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignPlan:
        """The plan whose ``to_json`` is ``data`` (also after a trip through a JSON column).

        Instants come back in the campaign's timezone; a key an older stored plan
        lacks takes the field's default. ``extras`` comes back as JSON gave it.
        """
        return _from_jsonable(cls, data, ZoneInfo(data["timezone"]))


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


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_jsonable(kind: Any, value: Any, tz: ZoneInfo) -> Any:
    """``value`` as ``_jsonable`` wrote it, read back as the annotated type ``kind``."""
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # X | None: the None was handled above
        (kind,) = [a for a in args if a is not type(None)]
        return _from_jsonable(kind, value, tz)
    if origin is tuple:
        return tuple(_from_jsonable(args[0], v, tz) for v in value)
    if origin is dict:
        return {k: _from_jsonable(args[1], v, tz) for k, v in value.items()}
    if is_dataclass(kind):
        types_of = _field_types(kind)
        return kind(**{f.name: _from_jsonable(types_of[f.name], value[f.name], tz)
                       for f in fields(kind) if f.name in value})
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    if kind in (date, time):
        return kind.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value  # str, int, bool and Any are JSON already
