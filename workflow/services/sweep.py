"""The deadline sweep: over open tasks (indexed SQL, never a loop over everything), send what is due.

Each task carries the instant of its next notice (``next_notice_at``; empty until
the sweep first plans it). The sweep reads the open tasks whose instant has come
or which are not planned yet, decides with ``workflow.notices`` which notice is
due, moves the task's level with a compare-and-set (two sweeps at once cannot
both send), holds the notice for each of its recipients (``pending_notices``) in
the same transaction and names every notice in one audit row per batch.

At the end of the run every held notice goes into one digest per recipient and
stage (``services/digests.py``): a department's administrator gets one 【提醒】 listing
its 27 enterprises, not 27 messages. The digest's outbox key derives from the set
of notices it lists, so a crash re-sends at most the same message, and a notice
decided later goes into the next digest.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calendars import CalendarCoverageError
from workflow.deadline_words import deadline_words, last_day
from workflow.files.email import one_line
from workflow.notices import due_notice, workdays_overdue
from workflow.persistence.statistics_refresh import SWEEP_ROWS, SWEEP_TABLES, refresh_statistics
from workflow.services.collector import fewer_collections
from workflow.services.digests import digest_notices
from workflow.services.people import People, Person


@dataclass
class SweepReport:
    planned: int = 0  # tasks whose next notice was planned
    notices: int = 0  # notices decided (one per task and step)
    queued: int = 0  # digests queued (one per recipient and stage)
    decided: list[dict] = field(default_factory=list)  # one per notice: task, stage, step, level, USCC, names (events)
    uncovered: dict[int, int] = field(default_factory=dict)  # missing calendar year -> tasks whose notice waits on it
    busy: bool = False  # another process was sweeping the campaign: this one left the pass to it
    busy_since: datetime | None = None  # when that process took the pass (None: it cannot be told)

    def add(self, other: SweepReport) -> None:
        self.planned += other.planned
        self.notices += other.notices
        self.queued += other.queued
        self.decided += other.decided
        for year, count in other.uncovered.items():
            self.uncovered[year] = self.uncovered.get(year, 0) + count


def sweep(uow, *, batch: int = 1000) -> SweepReport:
    """One pass: every open task of the campaign whose next notice has come (or is not planned yet).

    One process sweeps a campaign at a time (``uow.exclusive``, released if it dies): a second tick that finds
    the pass taken leaves it to the holder (``SweepReport.busy``), which claims every due task until none is
    left — two workers on one campaign share one audit chain head, so they could only take its batches in
    turn, each re-reading what the other had just claimed.

    The due set is read once (its ids, in id order) and claimed a batch at a time by primary key, one
    transaction per batch: no batch reads or sorts the whole due set again. The transaction holds the
    campaign's chain head first (the lock order, ``services/uow.py``); the claim's ``FOR UPDATE SKIP LOCKED``,
    its re-check that the task is still due, and the level's compare-and-set keep a task from being handled
    twice even so. When the ids read run out the due set is read again (what fell due meanwhile, what a batch
    rolled back left); the pass ends when a fresh read yields nothing to claim. A batch that lost a deadlock is
    rolled back whole and claimed again. Then the run's notices (and any a crashed run left held) go out as
    digests.
    """
    name = f"sweep|{uow.code}"
    with uow.exclusive(name) as mine:
        if not mine:
            return SweepReport(busy=True, busy_since=uow.held_since(name))
        return _pass(uow, batch)


def _pass(uow, batch: int) -> SweepReport:
    report = SweepReport()
    due = _DueSet()
    with fewer_collections():  # a wave's notices live until the pass ends (services/collector.py)
        while True:
            part = uow.retried(lambda u: _claim_and_sweep(u, batch, due))
            if part is None:
                break
            report.add(part)
        uow.seam("sweep:held")
        report.queued += uow.retried(digest_notices)
    if report.planned + report.notices > SWEEP_ROWS:  # a wave: the next claims and counts plan on its rows
        refresh_statistics(uow.engine, SWEEP_TABLES)
    return report


class _DueSet:
    """The ids of the due set still to claim (read once, then again when they run out), and how many of the last
    read were claimed: a read none of whose tasks could be claimed ends the pass. Also the departments and
    officers, read by the pass's first batch for all of them."""

    def __init__(self):
        self.ids: list[int] = []
        self.at = 0
        self.claimed = 0
        self.read = False
        self.directory: tuple[dict, dict] | None = None

    def people(self, uow, inspection_ids: list[int]) -> People:
        if self.directory is None:
            self.directory = uow.directory.departments(), uow.directory.officers()
        return People(uow, inspection_ids, self.directory)

    def claim(self, uow, top: int, batch: int) -> list:
        """Up to ``batch`` due tasks, locked for this transaction (empty: nothing left to claim)."""
        tasks: list = []
        while len(tasks) < batch:
            if self.at >= len(self.ids):
                if tasks or (self.read and not self.claimed):
                    break  # read again in the next transaction (this one's tasks are still due in it); or the last
                    # read yielded nothing claimable
                self.ids, self.at, self.claimed, self.read = \
                    uow.tasks.notice_due_ids(uow.plan.code, now=uow.now, top=top), 0, 0, True
                if not self.ids:
                    break
            chunk = self.ids[self.at:self.at + batch - len(tasks)]
            self.at += len(chunk)
            claimed = uow.tasks.claim_notice_due(uow.plan.code, chunk, now=uow.now, top=top)
            self.claimed += len(claimed)
            tasks += claimed
        return tasks


def _claim_and_sweep(uow, batch: int, due: _DueSet) -> SweepReport | None:
    """One batch in one transaction: its report, or None when nothing is due."""
    with uow:
        top = len(uow.plan.escalation.ladder) + 1
        tasks = due.claim(uow, top, batch)
        if not tasks:
            return None
        part = SweepReport()
        try:
            with uow:  # a savepoint: a lost race undoes this batch's writes only
                _sweep_batch(uow, tasks, part, due)
        except _LostRace:
            return SweepReport()  # another sweep moved these tasks first and sends their notices
    return part


class _LostRace(Exception):
    pass


def _sweep_batch(uow, tasks, report: SweepReport, due: _DueSet) -> None:
    plan, now, calendar = uow.plan, uow.now, uow.calendar
    ids = [t.inspection_id for t in tasks if t.inspection_id]
    people = due.people(uow, ids)
    enterprises = uow.inspections.enterprises(ids)
    planned, moved, held, decided, waiting = [], [], [], [], []
    opens = plan.office_hours.opens
    top = len(plan.escalation.ladder) + 1  # the steps a task's people skip count as passed: nothing left, the top
    # Tasks share due instants by the thousand: decide and word each instant once.
    decide = functools.lru_cache(maxsize=None)(
        lambda due, level, skip: due_notice(due, level, now, plan.escalation, calendar, plan.tz, opens=opens,
                                            skip=skip))
    counted = functools.lru_cache(maxsize=None)(
        lambda due: (workdays_overdue(due, now, calendar, plan.tz),
                     calendar.workdays_between(now.astimezone(plan.tz).date(), last_day(due, plan.tz))))
    for task in tasks:
        try:
            notice, next_at = decide(task.due_at, task.escalation_level, people.skipped(task))
            late, left = counted(task.due_at) if notice else (0, 0)
        except CalendarCoverageError as exc:  # this task waits for the year's calendar (asked again next sweep)
            report.uncovered[exc.year] = report.uncovered.get(exc.year, 0) + 1
            waiting.append((now + timedelta(seconds=1), task.id, task.escalation_level))
            continue
        if notice is None:
            if next_at is None:  # its last steps skipped: at the top, or the sweep claims it forever
                moved.append((top, None, task.id, task.escalation_level))
            else:
                planned.append((next_at, task.id, task.escalation_level))
            continue
        moved.append((notice.level if next_at else top, next_at, task.id, task.escalation_level))
        uscc, name, address = enterprises.get(task.inspection_id, ("", "", ""))
        departments = people.departments_of(task)
        item = _item(plan, people, task, departments, uscc, name, late, left)
        if uscc:
            item["address"] = address  # for the list of what is unanswered (digests.py), not looked up again
        recipients = people.at_step(notice.step, task)
        held += [(task.id, notice.level, notice.stage, notice.step, p.email, (), {**item, "to": _addressed(p)})
                 for p in recipients]
        decided.append({"task": task.key, "stage": notice.stage, "step": notice.step, "level": notice.level,
                        "recipients": [p.email for p in recipients], "task_id": task.id, "kind": task.kind,
                        "uscc": uscc, "departments": departments, "enterprise": name, "due": task.due_at,
                        "provisional": bool(task.provisional), "campaign_name": plan.name,
                        "department_names": {d: people.departments[d].name for d in departments
                                             if d in people.departments}})
    if planned:
        report.planned += uow.tasks.plan_notices(planned)
    if waiting:  # out of the due set until the next sweep, which asks again
        uow.tasks.plan_notices(waiting)
    if moved:
        if uow.tasks.raise_levels(moved) != len(moved):  # another sweep got there first: it sends, this one backs off
            raise _LostRace()
        report.notices += len(decided)
        report.decided += decided
    uow.pending_notices.hold(plan.code, now, held)
    if decided:  # one audit row per batch, naming every step taken
        uow.record("notices", payload={"count": len(decided), "notices": [
            [n["task"], n["uscc"], n["stage"], n["step"], n["level"], n["recipients"]] for n in decided]})


def _addressed(person: Person) -> dict:
    return {"name": person.name, "role": person.role, "organisation": person.organisation}


def _item(plan, people: People, task, departments: list[str], uscc: str, name: str, late: int, left: int) -> dict:
    """One task as a digest's line says it."""
    officer = people.officers.get(task.certificate_no) if task.certificate_no else None
    return {"kind": task.kind, "enterprise": one_line(name), "uscc": uscc, "department_code": task.department_code,
            "department": "、".join(people.departments[d].name for d in departments if d in people.departments),
            "officer": officer.name if officer else "",
            "due": _words(task.due_at, plan.tz, bool(task.provisional)),
            "due_at": task.due_at.isoformat(), "workdays_overdue": late, "workdays_left": left}


_words = functools.lru_cache(maxsize=4096)(lambda due, tz, provisional: deadline_words(due, tz,
                                                                                     provisional=provisional))
