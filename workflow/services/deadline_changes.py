"""When the calendar changes (a year's file arrives, a local adjustment), open tasks' due instants follow.

Each open task's deadline is resolved again from the event it runs from (the
dispatch, the forms, the visit) or from the absolute date the campaign set. A
provisional deadline never moves earlier for work already running — the people
doing it were told a date; a confirmed one may move either way. Each moved
deadline is audited and announced to the responsible people (【期限调整】), and
its notices are planned again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calendars import Deadline, WorkdayCalendar
from workflow.deadlines import resolve_deadline, visit_instant
from workflow.errors import UserError
from workflow.mail import mails
from workflow.services.calendar_files import calendar_fingerprint, calendar_problem, calendar_snapshot, campaign_calendar
from workflow.services.identities import require_staff
from workflow.services.people import People
from workflow.tasks import TASK_LABELS


@dataclass(frozen=True)
class MovedDeadline:
    task_id: int
    kind: str
    before: datetime
    after: datetime
    provisional: bool
    kept: bool  # a provisional deadline that would have moved earlier: kept


def _event(plan, task) -> datetime | None:
    if task.kind in ("backfill", "publish") and task.visit_date is not None:
        return visit_instant(task.visit_date, plan.tz)
    return task.created_at  # the dispatch (confirm), the forms (acknowledge)


def recompute_deadlines(uow, *, calendar: WorkdayCalendar, fingerprint: str) -> list[MovedDeadline]:
    """Resolve every open task's deadline on ``calendar``; store, audit and announce what moved."""
    changes: list[MovedDeadline] = []
    with uow:
        plan = uow.plan
        tasks = uow.tasks.open_with_visits(plan.code)
        for task in tasks:
            spec = plan.deadlines.get(task.kind)
            if spec is None:
                continue
            due: Deadline = resolve_deadline(spec, calendar, _event(plan, task) if spec.form == "within" else None)
            if due.at == task.due_at and due.provisional == task.provisional:
                continue
            kept = (task.provisional or task.no_earlier) and due.at < task.due_at
            after = task.due_at if kept else due.at
            if after == task.due_at and due.provisional == task.provisional:
                continue
            changes.append(MovedDeadline(task.id, task.kind, task.due_at, after, due.provisional, kept))
            uow.tasks.reschedule(task.id, due_at=after, provisional=due.provisional, no_earlier=task.no_earlier or kept)
        people = People(uow)
        by_id = {t.id: t for t in tasks}
        queued = []
        for change in changes:
            if change.before == change.after:
                continue
            task = by_id[change.task_id]
            context = {"campaign_name": plan.name, "campaign_code": plan.code,
                       "task_label": TASK_LABELS.get(task.kind, task.kind),
                       "before": f"{change.before.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                       "after": f"{change.after.astimezone(plan.tz):%Y-%m-%d %H:%M}", "provisional": change.provisional,
                       "office": plan.office}
            queued += mails(f"{task.key}#moved#{change.after.isoformat()}", people.recipients("responsible", task),
                            kind="deadline_moved", template="deadline_moved", context=context)
        uow.queue(queued)
        uow.record_all(("deadline_moved", None, {"task": by_id[c.task_id].key, "before": c.before.isoformat(),
                                                 "after": c.after.isoformat(), "provisional": c.provisional,
                                                 "kept_because_provisional": c.kept}, None) for c in changes)
        uow.campaigns.adopt_calendar(plan.code, sha256=fingerprint, files=calendar_snapshot(plan))
    return changes


def follow_calendar(uow, *, force: bool = False) -> list[MovedDeadline]:
    """What a tick does first: when the campaign's calendar files changed (or ``force``), move the deadlines.

    Files that are broken now are not adopted: nothing moves. The tick reports
    ``calendar_problem`` and goes on; a forced reload (``ssj calendar reload``) is refused with it.
    """
    with uow:
        if force:  # a person's reload (the tick follows the files by itself)
            require_staff(uow, "重新计算期限")
        plan = uow.plan
        stored = uow.campaigns.calendar_sha256(plan.code)
    problem = calendar_problem(plan)
    if problem is not None:
        if force:
            raise UserError(f"{plan.code}：{problem}")
        return []
    fingerprint = calendar_fingerprint(plan)
    if stored == fingerprint and not force:
        return []
    return recompute_deadlines(uow, calendar=campaign_calendar(plan), fingerprint=fingerprint)
