"""The deadline sweep: over open tasks (indexed SQL, never a loop over everything), send what is due.

Each task carries the instant of its next notice (``next_notice_at``; empty until
the sweep first plans it). The sweep reads the open tasks whose instant has come
or which are not planned yet, decides with ``workflow.notices`` which notice is
due, moves the task's level with a compare-and-set (two sweeps at once cannot
both send), queues one outbox row per recipient in the same transaction (the
outbox key is unique, so a re-run queues nothing twice) and names every notice in one
audit row per batch.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calendars import CalendarCoverageError, WorkdayCalendar
from workflow.campaign_file import CampaignPlan
from workflow.mail import Mail
from workflow.notices import LADDER_LABELS, SUBJECT_PREFIX, due_notice
from workflow.services.people import People
from workflow.tasks import TASK_LABELS

WHAT_TO_DO = {
    "confirm": "由部门管理员或联络人回复是否检查（返回比对确认表，或 ssj confirm 任务编号 部门代码 统一社会信用代码 --inspect|--decline 理由）",
    "confirmation_report": "将盖章的比对确认报告（检查对象、执法人员及手机）报领导小组办公室（ssj confirm report）",
    "acknowledge": "查收一企一表并确认（ssj ack 任务编号 执法证号）",
    "summary": "报送检查表、工作总结和统计表（ssj summary submit）",
    "backfill": "回填一企一表的检查结果（ssj results import 填好的一企一表，或 ssj results record）",
    "publish": "公示已回填的检查结果（ssj publish）",
}


@dataclass
class SweepReport:
    planned: int = 0  # tasks whose next notice was planned
    notices: int = 0  # notices decided (one per task and step)
    queued: int = 0  # outbox rows written
    decided: list[dict] = field(default_factory=list)  # one per notice: task, stage, step, level, USCC, names (events)
    uncovered: dict[int, int] = field(default_factory=dict)  # missing calendar year -> tasks whose notice waits on it

    def add(self, other: SweepReport) -> None:
        self.planned += other.planned
        self.notices += other.notices
        self.queued += other.queued
        self.decided += other.decided
        for year, count in other.uncovered.items():
            self.uncovered[year] = self.uncovered.get(year, 0) + count


def sweep(uow, *, batch: int = 1000) -> SweepReport:
    """One pass: every open task of the campaign whose next notice has come (or is not planned yet).

    Work is claimed a batch at a time, one transaction per batch. The transaction
    holds the campaign's chain head first (the lock order, ``services/uow.py``), so
    on PostgreSQL several workers on one campaign take its batches in turn and never
    handle the same task (the claim's ``FOR UPDATE SKIP LOCKED`` and the level's
    compare-and-set are the backstops); on SQLite the write transaction serialises
    them. A claimed task leaves the due set when its batch commits, so the loop ends.
    A batch that lost a deadlock is rolled back whole and claimed again.
    """
    report = SweepReport()
    while True:
        part = uow.retried(lambda u: _claim_and_sweep(u, batch))
        if part is None:
            return report
        report.add(part)


def _claim_and_sweep(uow, batch: int) -> SweepReport | None:
    """One batch in one transaction: its report, or None when nothing is due."""
    with uow:
        top = len(uow.plan.escalation.ladder) + 1
        tasks = uow.tasks.claim_notice_due(uow.plan.code, now=uow.now, top=top, limit=batch)
        if not tasks:
            return None
        part = SweepReport()
        try:
            with uow:  # a savepoint: a lost race undoes this batch's writes only
                _sweep_batch(uow, tasks, part)
        except _LostRace:
            return SweepReport()  # another sweep moved these tasks first and sends their notices
    return part


class _LostRace(Exception):
    pass


def _sweep_batch(uow, tasks, report: SweepReport) -> None:
    plan, now, calendar = uow.plan, uow.now, uow.calendar
    ids = [t.inspection_id for t in tasks if t.inspection_id]
    people = People(uow, ids)
    enterprises = uow.inspections.enterprise_names(ids)
    planned, moved, queued, decided, waiting = [], [], [], [], []
    # Tasks share due instants by the thousand: decide and word each instant once.
    decide = functools.lru_cache(maxsize=None)(
        lambda due, level: due_notice(due, level, now, plan.escalation, calendar, plan.tz))
    shared = functools.lru_cache(maxsize=None)(
        lambda due, provisional, kind, stage, step: _shared_context(plan, due, provisional, kind, stage, step, now,
                                                                    calendar))
    for task in tasks:
        try:
            notice, next_at = decide(task.due_at, task.escalation_level)
            common = notice and shared(task.due_at, bool(task.provisional), task.kind, notice.stage, notice.step)
        except CalendarCoverageError as exc:  # this task waits for the year's calendar (asked again next sweep)
            report.uncovered[exc.year] = report.uncovered.get(exc.year, 0) + 1
            waiting.append((now + timedelta(seconds=1), task.id, task.escalation_level))
            continue
        if notice is None:
            planned.append((next_at, task.id, task.escalation_level))
            continue
        moved.append((notice.level, next_at, task.id, task.escalation_level))
        uscc, name = enterprises.get(task.inspection_id, ("", ""))
        recipients = people.recipients(notice.step, task)
        departments = people.departments_of(task)
        for recipient in recipients:
            key = f"{task.key}#{notice.level}#{recipient}"
            queued.append(Mail(key, recipient, notice.stage, "task_notice",
                               {**common, **_task_context(people, task, departments, uscc, name, key)}, task.id))
        decided.append({"task": task.key, "stage": notice.stage, "step": notice.step, "level": notice.level,
                        "recipients": recipients, "task_id": task.id, "kind": task.kind, "uscc": uscc,
                        "departments": departments, "enterprise": name, "due": task.due_at,
                        "provisional": bool(task.provisional), "campaign_name": plan.name,
                        "department_names": {d: people.departments[d].name for d in departments
                                             if d in people.departments}})
    if planned:
        report.planned += uow.tasks.plan_notices(planned)
    if waiting:  # out of the due set until the next sweep, which asks again
        uow.tasks.plan_notices(waiting)
    if moved:
        if uow.tasks.raise_levels(moved) != len(moved):  # another sweep got there first: let it send, this one backs off
            raise _LostRace()
        report.notices += len(moved)
        report.decided += decided
    report.queued += uow.queue(queued)
    if decided:  # one audit row per batch, naming every step taken
        uow.record("notices", payload={"count": len(decided), "notices": [
            [n["task"], n["uscc"], n["stage"], n["step"], n["level"], n["recipients"]] for n in decided]})


def _shared_context(plan: CampaignPlan, due: datetime, provisional: bool, kind: str, stage: str, step: str,
                    now: datetime, calendar: WorkdayCalendar) -> dict:
    """What every message about the same due instant, task kind and step says alike."""
    tz = plan.tz
    last_day = (due.astimezone(tz) - timedelta(microseconds=1)).date()
    today = now.astimezone(tz).date()
    greeting = {"office": "领导小组办公室", "department_leader": "分管领导", "department_contact": "联络人"}.get(
        step, "您好")
    return {
        "prefix": SUBJECT_PREFIX[stage], "stage": stage, "step_label": LADDER_LABELS.get(step, ""),
        "task_label": TASK_LABELS.get(kind, kind), "campaign_name": plan.name, "campaign_code": plan.code,
        "document_no": plan.document_no, "due": f"{due.astimezone(tz):%Y-%m-%d %H:%M}", "provisional": provisional,
        "workdays_left": calendar.workdays_between(today, last_day),
        "workdays_overdue": calendar.workdays_between(last_day, today), "what_to_do": WHAT_TO_DO.get(kind, ""),
        "greeting": greeting, "office": plan.office,
    }


def _task_context(people: People, task, departments: list[str], uscc: str, name: str, key: str) -> dict:
    officer = people.officers.get(task.certificate_no) if task.certificate_no else None
    return {"department": "、".join(people.departments[d].name for d in departments if d in people.departments),
            "enterprise": name, "uscc": uscc, "officer": f"{officer.name}（{officer.certificate_no}）" if officer else "",
            "key_digest": hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]}
