"""One drawn enterprise's inspection in one campaign, and the facts its moves depend on.

``Inspection`` is what the state machine moves: a plain object with a ``state``
attribute and a version for optimistic concurrency; each move leaves a ``Moved``
event (with its instant) for the repository and the audit trail. The ``*Facts`` values are what the guards read; the repository loads
only the facts the trigger at hand needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from workflow.results import ItemResult

SAMPLED, CONFIRMED, ASSIGNED, INSPECTED = "sampled", "confirmed", "assigned", "inspected"
REPORTED, PUBLISHED, WITHDRAWN = "reported", "published", "withdrawn"
STATES = (SAMPLED, CONFIRMED, ASSIGNED, INSPECTED, REPORTED, PUBLISHED, WITHDRAWN)
STATE_LABELS = {
    SAMPLED: "已抽取",
    CONFIRMED: "已确认",
    ASSIGNED: "已分派",
    INSPECTED: "已检查",
    REPORTED: "已回填",
    PUBLISHED: "已公示",
    WITHDRAWN: "已撤出",
}

SIGNED = "签字"
STAMPED = "盖章"
REFUSED = "拒绝签字"
NOBODY_SIGNED = "无人签字"
SIGNATURES = (SIGNED, STAMPED, REFUSED, NOBODY_SIGNED)


class Moved(NamedTuple):
    """A domain event: the machine moved an inspection."""

    trigger: str
    source: str
    dest: str
    at: datetime
    actor: str
    payload: dict | None  # None when there is nothing to add (keeps 100,000 moves light)


class Inspection:
    """The state of one enterprise's inspection. Costs one small object per row."""

    __slots__ = ("id", "campaign_code", "uscc", "state", "version", "withdraw_reason", "events")

    def __init__(self, id: int | None, campaign_code: str, uscc: str, state: str, version: int = 1,
                 withdraw_reason: str | None = None):
        self.id = id
        self.campaign_code = campaign_code
        self.uscc = uscc
        self.state = state
        self.version = version
        self.withdraw_reason = withdraw_reason
        self.events: list[Moved] = []

    def __repr__(self) -> str:
        return f"Inspection({self.campaign_code}/{self.uscc} {self.state} v{self.version})"


class DepartmentAnswer(NamedTuple):
    """A department's 比对确认 for one enterprise; ``inspects`` is None until it answers.

    Named tuples, not dataclasses, for the facts loaded by the hundred thousand."""

    department: str
    name: str
    inspects: bool | None = None
    reason: str = ""
    on_behalf: bool = False  # recorded by the office for the department


class TeamMember(NamedTuple):
    certificate_no: str
    department: str
    specialist: bool = False  # 专业人员协助: on the team, not counted
    name: str = ""
    valid_until: date | None = None  # the certificate's last valid day


@dataclass(frozen=True)
class Visit:
    """The joint visit as recorded on the 一企一表."""

    day: date
    officers_present: frozenset[str]
    signature: str
    note: str = ""


@dataclass
class Facts:
    """Everything a guard may look at, for one inspection. Unloaded parts stay empty."""

    actor: str = ""
    actor_is_office: bool = False
    answers: tuple[DepartmentAnswer, ...] = ()
    team: tuple[TeamMember, ...] = ()
    officers_per_enterprise: int = 2
    per_department_minimum: int = 1
    forms_generated: bool = False
    visit: Visit | None = None
    visit_window: tuple[date, date] | None = None
    form_items: tuple[str, ...] = ()
    results: dict[str, ItemResult] = field(default_factory=dict)
    reason: str = ""

    def inspecting_departments(self) -> list[DepartmentAnswer]:
        return [a for a in self.answers if a.inspects]
