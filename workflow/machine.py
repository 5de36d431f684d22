"""The inspection state machine: states, triggers and guards, all in this one module.

    sampled → confirmed → assigned → inspected → reported → published
    sampled | confirmed | assigned → withdrawn   (with a reason)

One ``transitions.Machine`` is built once, with no models attached. An inspection
is moved by handing it to the machine's event (``Event.trigger(model, …)``), which
reads and writes ``model.state`` only: loading a row never resets its state (the
trap of attaching a model, which sets the initial state) and a row costs nothing
but its own small object (no ``add_model``, whose membership check is O(n)).

Each guard is a small named class with the rule's wording. A guard that fails
raises ``MoveRefused`` listing everything missing, in Chinese, so the clerk sees
what to do rather than a bare "condition failed".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from transitions import Machine

from workflow.errors import UserError
from workflow.inspection import (
    ASSIGNED,
    CONFIRMED,
    INSPECTED,
    NOBODY_SIGNED,
    PUBLISHED,
    REFUSED,
    REPORTED,
    SAMPLED,
    SIGNATURES,
    STATE_LABELS,
    STATES,
    WITHDRAWN,
    Facts,
    Inspection,
    Moved,
)
from workflow.results import NOBODY_THERE, result_problems

CONFIRM, ASSIGN, INSPECT, REPORT, PUBLISH, WITHDRAW = "confirm", "assign", "inspect", "report", "publish", "withdraw"
TRIGGER_LABELS = {
    "confirm": "完成比对确认",
    "assign": "分派检查组",
    "inspect": "记录实地核查",
    "report": "完成结果回填",
    "publish": "公示",
    "withdraw": "撤出",
}


class IllegalMove(UserError):
    """A trigger the current state does not allow."""


class MoveRefused(UserError):
    """A trigger whose guard failed: ``problems`` says what is missing."""

    def __init__(self, inspection: Inspection, trigger: str, problems: list[str]):
        self.problems = problems
        head = f"企业 {inspection.uscc} 不能{TRIGGER_LABELS[trigger]}："
        super().__init__(head + "；".join(problems), [head, *(f"  {p}" for p in problems)])


# --- guards: one class per rule ---------------------------------------------


class Guard(ABC):
    """A rule a move must satisfy; ``problems`` returns what is missing (empty: allowed)."""

    rule = ""

    @abstractmethod
    def problems(self, inspection: Inspection, facts: Facts) -> list[str]:
        """What is missing for this move, in Chinese; empty when the rule holds."""

    def findings(self, inspection: Inspection, facts: Facts) -> list[tuple[str, str]]:
        """The same, each with the field it is about ("" when it is about no one field)."""
        return [("", p) for p in self.problems(inspection, facts)]

    def __call__(self, event) -> bool:
        inspection, facts = event.model, event.kwargs["facts"]
        problems = self.problems(inspection, facts)
        if problems:
            raise MoveRefused(inspection, event.event.name, problems)
        return True


class EveryDepartmentAnswered(Guard):
    rule = "每个部门都已比对确认（检查，或不检查并说明理由），且至少一个部门检查"

    def problems(self, inspection, facts):
        waiting = [a.name for a in facts.answers if a.inspects is None]
        if waiting:
            return [f"尚有 {len(waiting)} 个部门未完成比对确认：{'、'.join(waiting)}"]
        unexplained = [a.name for a in facts.answers if a.inspects is False and not a.reason.strip()]
        if unexplained:
            return [f"不检查须说明理由：{'、'.join(unexplained)}"]
        if not facts.answers:
            return ["尚未派发到任何部门"]
        if not facts.inspecting_departments():
            return ["没有部门检查该企业，只能撤出（ssj withdraw 任务编号 统一社会信用代码 --reason 理由）"]
        return []


class TeamMatched(Guard):
    rule = "检查组人数不少于 officers_per_enterprise（至少 2 人），每个检查部门不少于 per_department_minimum 人（专业人员不计），且已生成一企一表"

    def problems(self, inspection, facts):
        problems = []
        counted = [m for m in facts.team if not m.specialist]
        needed = max(2, facts.officers_per_enterprise)
        if len(counted) < needed:
            problems.append(f"检查组执法人员 {len(counted)} 人，少于 {needed} 人（专业人员不计）")
        for answer in facts.inspecting_departments():
            n = sum(1 for m in counted if m.department == answer.department)
            if n < facts.per_department_minimum:
                problems.append(f"{answer.name}执法人员 {n} 人，少于 {facts.per_department_minimum} 人")
        if not facts.forms_generated:
            problems.append("尚未生成一企一表（ssj forms）")
        return problems


class VisitRecorded(Guard):
    """The visit rule, the one place it is stated: the command line and a filled form are checked by it."""

    rule = ("实地核查已记录：日期在核查时间内，至少 2 名检查组执法人员到场且执法证在核查当日有效，"
            "法定代表人签字或盖章（或拒绝签字、无人签字并说明）")

    def problems(self, inspection, facts):
        return [message for _, message in self.findings(inspection, facts)]

    def findings(self, inspection, facts):
        """Each problem with its field (date, officers, signature, note), so a form can point at the cell."""
        visit = facts.visit
        if visit is None:
            return [("date", "尚未记录实地核查")]
        problems = []
        if facts.visit_window and not facts.visit_window[0] <= visit.day <= facts.visit_window[1]:
            start, end = facts.visit_window
            problems.append(("date", f"核查日期 {visit.day} 不在实地核查时间 {start} 至 {end} 之内"))
        members = {m.certificate_no: m for m in facts.team}
        strangers = sorted(visit.officers_present - set(members))
        if strangers:
            problems.append(("officers", f"执法人员 {'、'.join(strangers)} 不在该企业的检查组中"))
        expired = [f"{members[c].name}（{c}，有效期至 {members[c].valid_until}）" for c in sorted(visit.officers_present)
                   if c in members and members[c].valid_until is not None and members[c].valid_until < visit.day]
        if expired:
            problems.append(("officers", f"执法证在核查当日已过期：{'、'.join(expired)}"))
        present = sum(1 for c in visit.officers_present if c in members and not members[c].specialist)
        if present < 2:
            problems.append(("officers", f"到场的检查组执法人员 {present} 人，少于 2 人（专业人员不计）"))
        if visit.signature not in SIGNATURES:
            problems.append(("signature", f"签字情况“{visit.signature}”应为{'、'.join(SIGNATURES)}之一"))
        elif visit.signature in (REFUSED, NOBODY_SIGNED) and not visit.note.strip():
            problems.append(("note", f"“{visit.signature}”须如实记录情况说明"))
        return problems


class EveryItemReported(Guard):
    rule = "一企一表的每个抽查事项都有符合规则的检查结果；无人签字的，至少一项为 6、7 或 9"

    def problems(self, inspection, facts):
        problems = []
        missing = [code for code in facts.form_items if code not in facts.results]
        if missing:
            problems.append(f"尚有 {len(missing)} 个抽查事项未回填：{'、'.join(missing)}")
        for code in facts.form_items:
            if code in facts.results:
                problems.extend(f"{code}：{p}" for p in result_problems(facts.results[code]))
        if facts.visit and facts.visit.signature == NOBODY_SIGNED and not missing and not any(
            r.codes & NOBODY_THERE for r in facts.results.values()
        ):
            problems.append("记录为无人签字的，至少一个抽查事项的检查结果应为 6、7 或 9")
        return problems


class ByTheOffice(Guard):
    rule = "只能由领导小组办公室进行"

    def problems(self, inspection, facts):
        return [] if facts.actor_is_office else [f"“{facts.actor}”不是本任务领导小组办公室的工作人员"]


class WithReason(Guard):
    rule = "须说明理由"

    def problems(self, inspection, facts):
        return [] if facts.reason.strip() else ["须说明撤出理由（--reason）"]


# --- the machine -------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[Guard, ...]


MOVES = (
    Move(CONFIRM, (SAMPLED,), CONFIRMED, (EveryDepartmentAnswered(),)),
    Move(ASSIGN, (CONFIRMED,), ASSIGNED, (TeamMatched(),)),
    Move(INSPECT, (ASSIGNED,), INSPECTED, (VisitRecorded(),)),
    Move(REPORT, (INSPECTED,), REPORTED, (EveryItemReported(),)),
    Move(PUBLISH, (REPORTED,), PUBLISHED, (ByTheOffice(),)),
    Move(WITHDRAW, (SAMPLED, CONFIRMED, ASSIGNED), WITHDRAWN, (ByTheOffice(), WithReason())),
)
INITIAL = SAMPLED
FINAL = (PUBLISHED, WITHDRAWN)


@dataclass(frozen=True)
class Act:
    """Something done to an inspection that is not a move, and the states that allow it."""

    states: tuple[str, ...]
    doing: str  # what the clerk tried, for the refusal
    hint: str = ""


# What each state allows besides its moves: asked with ``can``, refused with ``require``.
ANSWER, CHANGE_TEAM, ISSUE_FORM, RECORD_VISIT, RECORD_RESULT, FILL_FORM = (
    "answer", "change_team", "issue_form", "record_visit", "record_result", "fill_form")
ACTS = {
    ANSWER: Act((SAMPLED,), "更改比对确认", "比对确认已结束"),
    CHANGE_TEAM: Act((CONFIRMED, ASSIGNED), "更换或添加检查组成员"),
    ISSUE_FORM: Act((CONFIRMED, ASSIGNED), "生成一企一表"),
    RECORD_VISIT: Act((ASSIGNED,), "记录实地核查"),
    RECORD_RESULT: Act((INSPECTED,), "回填检查结果", "须先记录实地核查，已回填的不能再改"),
    FILL_FORM: Act((ASSIGNED, INSPECTED), "导入一企一表", "须为已分派或已检查"),
}


def _record(inspection: Inspection, trigger: str, source: str, facts: Facts, now: datetime) -> Moved:
    """After a move: the domain event, with the instant, who moved it and what the audit should keep."""
    dest = inspection.state
    payload = {}
    if dest == WITHDRAWN:
        inspection.withdraw_reason = facts.reason.strip()
        payload["reason"] = inspection.withdraw_reason
    elif dest == CONFIRMED:
        payload["inspecting"] = [a.department for a in facts.inspecting_departments()]
        on_behalf = [a.department for a in facts.answers if a.on_behalf]
        if on_behalf:
            payload["answered_by_office_for"] = on_behalf
    moved = Moved(trigger, source, dest, now, facts.actor, payload or None)
    inspection.events.append(moved)
    return moved


MACHINE = Machine(
    model=None,
    states=list(STATES),
    initial=None,
    transitions=[
        {"trigger": m.trigger, "source": list(m.sources), "dest": m.dest, "conditions": list(m.guards)}
        for m in MOVES
    ],
    send_event=True,
    auto_transitions=False,
)
_SOURCES = {m.trigger: m.sources for m in MOVES}
_BY_TRIGGER = {m.trigger: m for m in MOVES}


def allowed_triggers(state: str) -> list[str]:
    return [m.trigger for m in MOVES if state in m.sources]


def can(state: str, action: str) -> bool:
    """Whether an inspection in ``state`` allows ``action`` (a trigger, or one of ``ACTS``)."""
    if action in _SOURCES:
        return state in _SOURCES[action]
    return state in ACTS[action].states


def states_allowing(action: str) -> tuple[str, ...]:
    """Every state in which ``action`` (a trigger, or one of ``ACTS``) is allowed."""
    return tuple(state for state in STATES if can(state, action))


def require(inspection: Inspection, action: str) -> None:
    """Refuse, in Chinese, an act (or a move: IllegalMove) the inspection's state does not allow."""
    if can(inspection.state, action):
        return
    if action in _SOURCES:
        allowed = "、".join(STATE_LABELS[s] for s in _SOURCES[action])
        raise IllegalMove(f"企业 {inspection.uscc} 当前为“{STATE_LABELS.get(inspection.state, inspection.state)}”，"
                          f"不能{TRIGGER_LABELS[action]}（只能从“{allowed}”状态{TRIGGER_LABELS[action]}）")
    act = ACTS[action]
    hint = f"（{act.hint}）" if act.hint else ""
    raise UserError(f"企业 {inspection.uscc} 当前为“{STATE_LABELS.get(inspection.state, inspection.state)}”，"
                    f"不能{act.doing}{hint}")


def ready(inspection: Inspection, trigger: str, facts: Facts) -> bool:
    """Whether ``trigger`` would move the inspection now: its state allows it and every guard holds."""
    move = _BY_TRIGGER[trigger]
    return inspection.state in move.sources and not any(g.problems(inspection, facts) for g in move.guards)


def fire(inspection: Inspection, trigger: str, facts: Facts, now: datetime) -> Moved:
    """Move ``inspection`` by ``trigger``; IllegalMove / MoveRefused leave it untouched."""
    if trigger not in _SOURCES:
        raise ValueError(f"unknown trigger {trigger!r}")
    require(inspection, trigger)
    source = inspection.state
    MACHINE.events[trigger].trigger(inspection, facts=facts)  # a failing guard raises MoveRefused
    return _record(inspection, trigger, source, facts, now)


def mermaid() -> str:
    """The machine as a mermaid state diagram, generated from the definition above."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for state in STATES:
        lines.append(f"    {state} : {STATE_LABELS[state]} {state}")
    lines.append(f"    [*] --> {INITIAL} : 抽取并派发")
    for m in MOVES:
        for source in m.sources:
            lines.append(f"    {source} --> {m.dest} : {m.trigger} {TRIGGER_LABELS[m.trigger]}")
    for state in FINAL:
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"


def graphviz_dot() -> str:
    """The same picture in Graphviz's language, for a PNG where ``dot`` is installed."""
    lines = ["digraph inspection {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Noto Sans CJK SC"];',
             '  edge [fontname="Noto Sans CJK SC"];']
    for state in STATES:
        lines.append(f'  {state} [label="{STATE_LABELS[state]}\\n{state}"];')
    for m in MOVES:
        for source in m.sources:
            lines.append(f'  {source} -> {m.dest} [label="{TRIGGER_LABELS[m.trigger]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
