"""When a task's people hear about it: a reminder, the overdue notice, then one step up the ladder per grace.

A task's ``escalation_level`` counts the notices already sent:

    0  nothing yet         → next: 【提醒】 ``remind_before`` the deadline day, to the responsible people
    1  reminded            → next: 【逾期】 at the due instant, to the responsible people
    2  overdue notice sent → next: 【督办】 once one ``grace`` has wholly passed after the deadline day, to
                             ``ladder[1]`` (e.g. the department contact)
    2+k                    → next: 【督办】 once ``k+1`` graces have passed, to ``ladder[k+1]``

A step whose people are the step before's (a department whose contact is its
administrator) or nobody (no leader in the directory) is skipped: the next step
takes its turn, so every escalation reaches a different, higher person.

Escalations count whole working days after the deadline day: for a deadline at the
end of Friday and a grace of one working day, Monday must pass first, and the
【督办】 goes out on Tuesday at the office's opening ("已逾期 1 个工作日"). A sweep
that runs late sends only the latest notice whose time has come (the stages before
it are skipped, not piled up). The overdue notice falls due at the deadline itself;
the outbox holds every message until office hours (``workflow.office_hours``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendars import CalendarCoverageError, WorkdayCalendar
from workflow.campaign_plan import Escalation, Rule
from workflow.deadline_words import last_day
from workflow.office_hours import OPENS

REMIND, OVERDUE, ESCALATE = "remind", "overdue", "escalate"
SUBJECT_PREFIX = {REMIND: "【提醒】", OVERDUE: "【逾期】", ESCALATE: "【督办】"}
STAGE_LABELS = {REMIND: "提醒", OVERDUE: "逾期通知", ESCALATE: "督办"}  # in the order a task receives them
LADDER_LABELS = {"responsible": "责任人", "department_contact": "部门联络人", "department_leader": "部门分管领导",
                 "office": "领导小组办公室"}


@dataclass(frozen=True)
class Notice:
    stage: str  # remind | overdue | escalate
    level: int  # the task's escalation level once this notice is sent
    step: str  # who receives it: a ladder step (responsible, department_contact, …)
    at: datetime


def workdays_overdue(due: datetime, now: datetime, calendar: WorkdayCalendar, tz: ZoneInfo) -> int:
    """Whole working days passed since the deadline day: the working days after it and before today."""
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    return calendar.workdays_between(last_day(due, tz), yesterday)


def _shift(day: date, rule: Rule, sign: int, calendar: WorkdayCalendar) -> date:
    if rule.n == 0:
        return day
    if rule.workdays:
        return calendar.add_workdays(day, sign * rule.n)
    moved = day + timedelta(days=sign * rule.n)
    if sign > 0:
        return calendar.next_workday_on_or_after(moved)
    return moved if calendar.is_workday(moved) else calendar.add_workdays(moved, -1)  # a reminder on a working day


def _placed(due: datetime, escalation: Escalation, calendar: WorkdayCalendar, tz: ZoneInfo, opens: time,
            skip: frozenset[str]) -> tuple[list[Notice], tuple[int, CalendarCoverageError] | None]:
    """The notices the calendar can place, in order, and the first one it cannot (its level, the missing year)."""
    last = last_day(due, tz)
    notices, gap = [], None
    try:
        remind_at = datetime.combine(_shift(last, escalation.remind_before, -1, calendar), opens, tz)
        if remind_at < due:
            notices.append(Notice(REMIND, 1, escalation.ladder[0], remind_at))
    except CalendarCoverageError as exc:
        gap = (1, exc)
    notices.append(Notice(OVERDUE, 2, escalation.ladder[0], due))
    day = last
    for k, step in enumerate(escalation.ladder[1:], start=3):
        if step in skip:
            continue
        try:
            day = _shift(day, escalation.grace, +1, calendar)  # the grace that must wholly pass
            sent_on = calendar.add_workdays(day, 1)
        except CalendarCoverageError as exc:
            return notices, gap or (k, exc)
        notices.append(Notice(ESCALATE, k, step, datetime.combine(sent_on, opens, tz)))
    return notices, gap


def schedule(due: datetime, escalation: Escalation, calendar: WorkdayCalendar, tz: ZoneInfo, *, opens: time = OPENS,
             skip: frozenset[str] = frozenset()) -> list[Notice]:
    """Every notice a task may get, in order (CalendarCoverageError when one falls in a year no calendar covers)."""
    notices, gap = _placed(due, escalation, calendar, tz, opens, skip)
    if gap:
        raise gap[1]
    return notices


def due_notice(due: datetime, level: int, now: datetime, escalation: Escalation, calendar: WorkdayCalendar,
               tz: ZoneInfo, *, opens: time = OPENS, skip: frozenset[str] = frozenset()
               ) -> tuple[Notice | None, datetime | None]:
    """The notice to send now (the latest one whose time has come, if any) and when the next one falls;
    ``skip``: the ladder steps this task passes over (their people are the step before's, or nobody).

    A notice the calendar cannot place cannot fall before its missing year begins: until then it is the
    next one at the latest; from then on, while it may be due, CalendarCoverageError (the sweep says so)."""
    placed, gap = _placed(due, escalation, calendar, tz, opens, skip)
    pending = [n for n in placed if n.level > level]
    ready = [n for n in pending if n.at <= now]
    send = ready[-1] if ready else None
    later = [n for n in pending if n.at > now]
    next_at = later[0].at if later else None
    if gap and gap[0] > (send.level if send else level) and not (later and later[0].level < gap[0]):
        begins = datetime(gap[1].year, 1, 1, tzinfo=tz)  # the unplaced notice is the next one
        if begins <= now:
            raise gap[1]
        next_at = min(next_at or begins, begins)
    return send, next_at
