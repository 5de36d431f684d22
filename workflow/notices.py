"""When a task's people hear about it: a reminder, the overdue notice, then one step up the ladder per grace.

A task's ``escalation_level`` counts the notices already sent:

    0  nothing yet         → next: 【提醒】 ``remind_before`` the due instant, to the responsible people
    1  reminded            → next: 【逾期】 at the due instant, to the responsible people
    2  overdue notice sent → next: 【督办】 one ``grace`` later, to ``ladder[1]`` (e.g. the department contact)
    2+k                    → next: 【督办】 ``k+1`` graces after the due instant, to ``ladder[k+1]``

A sweep that runs late sends only the latest notice whose time has come (the
stages before it are skipped, not piled up). Reminders and escalations go out at
09:00 on a working day; working-day periods follow the campaign's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendars import CalendarCoverageError, WorkdayCalendar
from workflow.campaign_file import Escalation, Rule

REMIND, OVERDUE, ESCALATE = "remind", "overdue", "escalate"
SUBJECT_PREFIX = {REMIND: "【提醒】", OVERDUE: "【逾期】", ESCALATE: "【督办】"}
STAGE_LABELS = {REMIND: "提醒", OVERDUE: "逾期通知", ESCALATE: "督办"}  # in the order a task receives them
OFFICE_HOURS = time(9)
LADDER_LABELS = {"responsible": "责任人", "department_contact": "部门联络人", "department_leader": "部门分管领导",
                 "office": "领导小组办公室"}


@dataclass(frozen=True)
class Notice:
    stage: str  # remind | overdue | escalate
    level: int  # the task's escalation level once this notice is sent
    step: str  # who receives it: a ladder step (responsible, department_contact, …)
    at: datetime


def _last_day(due: datetime, tz: ZoneInfo) -> date:
    """The day a due instant closes (00:00 belongs to the day before)."""
    return (due.astimezone(tz) - timedelta(microseconds=1)).date()


def _shift(day: date, rule: Rule, sign: int, calendar: WorkdayCalendar) -> date:
    if rule.n == 0:
        return day
    if rule.workdays:
        return calendar.add_workdays(day, sign * rule.n)
    moved = day + timedelta(days=sign * rule.n)
    return calendar.next_workday_on_or_after(moved) if sign > 0 else moved


def _placed(due: datetime, escalation: Escalation, calendar: WorkdayCalendar,
            tz: ZoneInfo) -> tuple[list[Notice], tuple[int, CalendarCoverageError] | None]:
    """The notices the calendar can place, in order, and the first one it cannot (its level, the missing year)."""
    last = _last_day(due, tz)
    notices, gap = [], None
    try:
        remind_at = datetime.combine(_shift(last, escalation.remind_before, -1, calendar), OFFICE_HOURS, tz)
        if remind_at < due:
            notices.append(Notice(REMIND, 1, escalation.ladder[0], remind_at))
    except CalendarCoverageError as exc:
        gap = (1, exc)
    notices.append(Notice(OVERDUE, 2, escalation.ladder[0], due))
    day = last
    for k, step in enumerate(escalation.ladder[1:], start=3):
        try:
            day = _shift(day, escalation.grace, +1, calendar)
        except CalendarCoverageError as exc:
            return notices, gap or (k, exc)
        notices.append(Notice(ESCALATE, k, step, datetime.combine(day, OFFICE_HOURS, tz)))
    return notices, gap


def schedule(due: datetime, escalation: Escalation, calendar: WorkdayCalendar, tz: ZoneInfo) -> list[Notice]:
    """Every notice a task may get, in order (CalendarCoverageError when one falls in a year no calendar covers)."""
    notices, gap = _placed(due, escalation, calendar, tz)
    if gap:
        raise gap[1]
    return notices


def due_notice(due: datetime, level: int, now: datetime, escalation: Escalation, calendar: WorkdayCalendar,
               tz: ZoneInfo) -> tuple[Notice | None, datetime | None]:
    """The notice to send now (the latest one whose time has come, if any) and when the next one falls.

    A notice the calendar cannot place cannot fall before its missing year begins: until then it is the
    next one at the latest; from then on, while it may be due, CalendarCoverageError (the sweep says so)."""
    placed, gap = _placed(due, escalation, calendar, tz)
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
