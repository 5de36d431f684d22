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
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, or_, select

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.files.email import message_id
from workflow.notices import LADDER_LABELS, SUBJECT_PREFIX, due_notice
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.bulk import Bulk
from workflow.tasks import TASK_LABELS

_t = orm.TaskRow.__table__
_o = orm.OutboxMessage.__table__

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
    decided: list[dict] = field(default_factory=list)  # one per notice: task, stage, step, level, USCC (for events)


class People:
    """Who is behind each ladder step, looked up once per batch (teams: the batch's inspections, else the campaign's)."""

    def __init__(self, conn: Connection, plan: CampaignPlan, inspection_ids: list[int] | None = None):
        d, o, tm, i = orm.Department, orm.Officer, orm.TeamMemberRow, orm.InspectionRow
        self.plan = plan
        self.departments = {r.code: r for r in conn.execute(select(d.code, d.name, d.contact_email, d.leader_email,
                                                                    d.contact_name, d.leader_name))}
        self.officers = {r.certificate_no: r for r in conn.execute(select(o.certificate_no, o.name, o.email,
                                                                           o.department_code))}
        self.teams: dict[int, list[str]] = defaultdict(list)
        members = select(tm.inspection_id, tm.certificate_no).where(tm.released_at.is_(None),
                                                                    tm.specialist.is_(False))
        members = members.where(tm.inspection_id.in_(inspection_ids)) if inspection_ids is not None else \
            members.join(i, i.id == tm.inspection_id).where(i.campaign_code == plan.code)
        for iid, cert in conn.execute(members):
            self.teams[iid].append(cert)
        self.office = plan.office_mailboxes

    def departments_of(self, task) -> list[str]:
        if task.department_code:
            return [task.department_code]
        if task.certificate_no and task.certificate_no in self.officers:
            return [self.officers[task.certificate_no].department_code]
        return sorted({self.officers[c].department_code for c in self.teams.get(task.inspection_id, ())
                       if c in self.officers})

    def recipients(self, step: str, task) -> list[str]:
        if step == "office":
            return self.office
        if step == "responsible":
            if task.certificate_no:
                officer = self.officers.get(task.certificate_no)
                return [officer.email] if officer and officer.email else []
            if task.kind == "backfill":
                return [self.officers[c].email for c in self.teams.get(task.inspection_id, ())
                        if c in self.officers and self.officers[c].email]
            if task.kind == "publish":
                return self.office
        field = "leader_email" if step == "department_leader" else "contact_email"
        return [getattr(self.departments[d], field) for d in self.departments_of(task)
                if d in self.departments and getattr(self.departments[d], field)]


def sweep(engine: Engine, plan: CampaignPlan, *, now: datetime, calendar: WorkdayCalendar,
          batch: int = 1000) -> SweepReport:
    """One pass: every open task of the campaign whose next notice has come (or is not planned yet).

    Work is claimed a batch at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
    several workers share one campaign's due tasks without waiting on each other and
    never handle the same task; on SQLite the write transaction serialises them.
    A claimed task leaves the due set when its batch commits, so the loop ends.
    """
    report = SweepReport()
    while True:
        with engine.begin() as conn:
            tasks = claim_due(conn, plan, now=now, limit=batch)
            if not tasks:
                return report
            part = SweepReport()
            try:
                with conn.begin_nested():
                    _sweep_batch(conn, plan, tasks, now, calendar, part)
            except _LostRace:
                continue  # another sweep moved these tasks first and sends their notices
        report.planned += part.planned
        report.notices += part.notices
        report.queued += part.queued
        report.decided += part.decided


def _due(plan: CampaignPlan, now: datetime):
    """Open tasks whose next notice has come, or not planned yet (a task at the ladder's top has nothing left)."""
    top = len(plan.escalation.ladder) + 1
    return (_t.c.campaign_code == plan.code, _t.c.done_at.is_(None),
            or_(_t.c.next_notice_at <= now, and_(_t.c.next_notice_at.is_(None), _t.c.escalation_level < top)))


def find_due(engine: Engine, plan: CampaignPlan, *, now: datetime) -> list:
    """The whole due set in one query (served by ``ix_tasks_open_notice``); the claims read it a batch at a time."""
    with engine.connect() as conn:
        return conn.execute(select(_t).where(*_due(plan, now)).order_by(_t.c.id)).all()


def claim_due(conn: Connection, plan: CampaignPlan, *, now: datetime, limit: int) -> list:
    """Up to ``limit`` due tasks, locked for this transaction; rows another worker holds are skipped."""
    return conn.execute(select(_t).where(*_due(plan, now)).order_by(_t.c.id).limit(limit)
                        .with_for_update(skip_locked=True)).all()


class _LostRace(Exception):
    pass


def _sweep_batch(conn: Connection, plan: CampaignPlan, tasks, now: datetime, calendar: WorkdayCalendar,
                 report: SweepReport) -> None:
    i, e = orm.InspectionRow, orm.Enterprise
    ids = [t.inspection_id for t in tasks if t.inspection_id]
    people = People(conn, plan, ids)
    enterprises = {iid: (uscc, name) for iid, uscc, name in conn.execute(
        select(i.id, i.uscc, e.name).join(e, e.uscc == i.uscc).where(i.id.in_(ids)))} if ids else {}
    planned, moved, rows, decided = [], [], [], []
    # Tasks share due instants by the thousand: decide and word each instant once.
    decide = functools.lru_cache(maxsize=None)(
        lambda due, level: due_notice(due, level, now, plan.escalation, calendar, plan.tz))
    shared = functools.lru_cache(maxsize=None)(
        lambda due, provisional, kind, stage, step: _shared_context(plan, due, provisional, kind, stage, step, now,
                                                                    calendar))
    for task in tasks:
        notice, next_at = decide(task.due_at, task.escalation_level)
        if notice is None:
            planned.append((next_at, task.id, task.escalation_level))
            continue
        moved.append((notice.level, next_at, task.id, task.escalation_level))
        uscc, name = enterprises.get(task.inspection_id, ("", ""))
        recipients = list(dict.fromkeys(people.recipients(notice.step, task)))
        common = shared(task.due_at, bool(task.provisional), task.kind, notice.stage, notice.step)
        departments = people.departments_of(task)
        for recipient in recipients:
            key = f"{task.key}#{notice.level}#{recipient}"
            context = {**common, **_task_context(people, task, departments, uscc, name, key)}
            rows.append((key, message_id(key, plan.email_sender), task.id, notice.stage, recipient,
                         _CONTEXT_JSON.encode(context)))
        decided.append({"task": task.key, "stage": notice.stage, "step": notice.step, "level": notice.level,
                        "recipients": recipients, "task_id": task.id, "kind": task.kind, "uscc": uscc,
                        "departments": departments})
    if planned:
        report.planned += Bulk(conn, "UPDATE tasks SET next_notice_at = ? WHERE id = ? AND escalation_level = ?",
                               _t, ("next_notice_at", "id", "escalation_level")).run(planned)
    if moved:
        changed = Bulk(conn, "UPDATE tasks SET escalation_level = ?, next_notice_at = ? WHERE id = ? "
                             "AND escalation_level = ?", _t,
                       ("escalation_level", "next_notice_at", "id", "escalation_level")).run(moved)
        if changed != len(moved):  # another sweep got there first: let it send, this one backs off
            raise _LostRace()
        report.notices += len(moved)
        report.decided += decided
    if rows:
        report.queued += Bulk(conn, "INSERT INTO outbox (key, message_id, task_id, kind, recipient, context, "
                                    "campaign_code, template, created_at, not_before, attempts) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                              _o, ("key", "message_id", "task_id", "kind", "recipient", "context", "campaign_code",
                                   "template", "created_at", "not_before", "attempts"),
                              (plan.code, "task_notice", now, now, 0)).run(rows)
    if decided:  # one audit row per batch, naming every step taken
        AuditLog(conn).append(campaign_chain(plan.code), [Entry("notices", "ssj", now, plan.code, payload={
            "count": len(decided), "notices": [[n["task"], n["uscc"], n["stage"], n["step"], n["level"],
                                                n["recipients"]] for n in decided]})])


_CONTEXT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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
