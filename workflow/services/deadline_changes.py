"""When the calendar changes (a year's file arrives, a local adjustment), open tasks' due instants follow.

Each open task's deadline is resolved again from the event it runs from (the
dispatch, the forms, the visit) or from the absolute date the campaign set. A
provisional deadline never moves earlier for work already running — the people
doing it were told a date; a confirmed one may move either way. Each moved
deadline is audited and announced to the responsible people — one 【期限调整】 per person,
listing every task of his that moved — and its notices are planned again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from calendars import Deadline, WorkdayCalendar
from workflow.deadline_words import deadline_words
from workflow.deadlines import resolve_deadline, visit_instant
from workflow.errors import UserError
from workflow.letter import greeting, signature
from workflow.mail import Mail, mails
from workflow.services.calendar_files import calendar_fingerprint, calendar_problem, calendar_snapshot, campaign_calendar
from workflow.services.identities import require_staff
from workflow.services.people import People, Person
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
        by_id = {t.id: t for t in tasks}
        uow.queue(_announcements(uow, [c for c in changes if c.before != c.after], by_id))
        uow.record_all(("deadline_moved", None, {"task": by_id[c.task_id].key, "before": c.before.isoformat(),
                                                 "after": c.after.isoformat(), "provisional": c.provisional,
                                                 "kept_because_provisional": c.kept}, None) for c in changes)
        uow.campaigns.adopt_calendar(plan.code, sha256=fingerprint, files=calendar_snapshot(plan))
    return changes


def _announcements(uow, moved: list[MovedDeadline], by_id: dict) -> list[Mail]:
    """One 【期限调整】 per person for the whole reload, listing each of his tasks that moved (事项, 企业, 原截止,
    新截止); its key is the person and the set of changes, so the same reload is announced once."""
    plan, people = uow.plan, People(uow)
    enterprises = uow.directory.enterprises(sorted({by_id[c.task_id].uscc for c in moved if by_id[c.task_id].uscc}))
    rows: dict[str, list[tuple[MovedDeadline, object]]] = defaultdict(list)
    who: dict[str, Person] = {}
    for change in moved:
        task = by_id[change.task_id]
        for person in people.at_step("responsible", task):
            who.setdefault(person.email, person)
            rows[person.email].append((change, task))
    queued = []
    for address, changes in rows.items():
        changes.sort(key=lambda ct: (ct[0].after, ct[1].key))
        person = who[address]
        context = {"greeting": greeting(person.name, person.role, person.organisation), "campaign_name": plan.name,
                   "campaign_code": plan.code, "signature": signature(plan),
                   "rows": [{"task": TASK_LABELS.get(task.kind, task.kind),
                             "enterprise": enterprises[task.uscc].name if task.uscc in enterprises else "",
                             "before": deadline_words(change.before, plan.tz),
                             "after": deadline_words(change.after, plan.tz, provisional=change.provisional),
                             "provisional": change.provisional} for change, task in changes]}
        digest = hashlib.sha256("\n".join(f"{task.key}:{change.before.isoformat()}>{change.after.isoformat()}"
                                          for change, task in changes).encode("utf-8")).hexdigest()[:16]
        queued += mails(f"moved|{plan.code}|{digest}", [address], kind="deadline_moved", template="deadline_moved",
                        context=context)
    return queued


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
