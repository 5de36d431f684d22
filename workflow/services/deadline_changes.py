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
from datetime import datetime, time

from sqlalchemy import Engine, select, update

from calendars import Deadline, WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.errors import UserError
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.services.campaigns import calendar_fingerprint, calendar_problem, calendar_snapshot, campaign_calendar
from workflow.services.outbox import queue
from workflow.services.sweep import People
from workflow.tasks import TASK_LABELS

_t = orm.TaskRow.__table__
_c = orm.Campaign.__table__


@dataclass(frozen=True)
class MovedDeadline:
    task_id: int
    kind: str
    before: datetime
    after: datetime
    provisional: bool
    kept: bool  # a provisional deadline that would have moved earlier: kept


def _event(plan: CampaignPlan, task, visit_day) -> datetime | None:
    if task.kind in ("backfill", "publish") and visit_day is not None:
        return datetime.combine(visit_day, time(12), plan.tz)
    return task.created_at  # the dispatch (confirm), the forms (acknowledge)


def recompute_deadlines(engine: Engine, plan: CampaignPlan, *, now: datetime, actor: str, calendar: WorkdayCalendar,
                        fingerprint: str) -> list[MovedDeadline]:
    """Resolve every open task's deadline on ``calendar``; store, audit and announce what moved."""
    i = orm.InspectionRow
    changes: list[MovedDeadline] = []
    with engine.begin() as conn:
        tasks = conn.execute(select(_t, i.visit_date).outerjoin(i, i.id == _t.c.inspection_id).where(
            _t.c.campaign_code == plan.code, _t.c.done_at.is_(None))).all()
        for task in tasks:
            spec = plan.deadlines.get(task.kind)
            if spec is None:
                continue
            due: Deadline = resolve_deadline(spec, calendar, _event(plan, task, task.visit_date)
                                             if spec.form == "within" else None)
            if due.at == task.due_at and due.provisional == task.provisional:
                continue
            kept = (task.provisional or task.no_earlier) and due.at < task.due_at
            after = task.due_at if kept else due.at
            if after == task.due_at and due.provisional == task.provisional:
                continue
            changes.append(MovedDeadline(task.id, task.kind, task.due_at, after, due.provisional, kept))
            conn.execute(update(_t).where(_t.c.id == task.id).values(
                due_at=after, provisional=due.provisional, next_notice_at=None, no_earlier=task.no_earlier or kept))
        people = People(conn, plan)
        by_id = {t.id: t for t in tasks}
        for change in changes:
            if change.before == change.after:
                continue
            task = by_id[change.task_id]
            recipients = list(dict.fromkeys(people.recipients("responsible", task)))
            context = {"campaign_name": plan.name, "campaign_code": plan.code, "task_label": TASK_LABELS.get(
                task.kind, task.kind), "before": f"{change.before.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                "after": f"{change.after.astimezone(plan.tz):%Y-%m-%d %H:%M}", "provisional": change.provisional,
                "office": plan.office}
            queue(conn, plan, key=f"{task.key}#moved#{change.after.isoformat()}", recipients=recipients,
                  kind="deadline_moved", template="deadline_moved", context=context, now=now)
        AuditLog(conn).append(campaign_chain(plan.code), [Entry("deadline_moved", actor, now, plan.code, payload={
            "task": by_id[c.task_id].key, "before": c.before.isoformat(), "after": c.after.isoformat(),
            "provisional": c.provisional, "kept_because_provisional": c.kept}) for c in changes])
        conn.execute(update(_c).where(_c.c.code == plan.code).values(calendar_sha256=fingerprint,
                                                                     calendar_files=calendar_snapshot(plan)))
    return changes


def follow_calendar(engine: Engine, plan: CampaignPlan, *, now: datetime, actor: str,
                    force: bool = False) -> list[MovedDeadline]:
    """What a tick does first: when the campaign's calendar files changed (or ``force``), move the deadlines.

    Files that are broken now are not adopted: nothing moves. The tick reports
    ``calendar_problem`` and goes on; a forced reload (``ssj calendar reload``) is refused with it.
    """
    problem = calendar_problem(plan)
    if problem is not None:
        if force:
            raise UserError(f"{plan.code}：{problem}")
        return []
    fingerprint = calendar_fingerprint(plan)
    with engine.connect() as conn:
        stored = conn.execute(select(_c.c.calendar_sha256).where(_c.c.code == plan.code)).scalar()
    if stored == fingerprint and not force:
        return []
    return recompute_deadlines(engine, plan, now=now, actor=actor, calendar=campaign_calendar(plan),
                               fingerprint=fingerprint)
