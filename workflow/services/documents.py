"""Files departments send the office by a deadline: the stamped confirmation report and the summary.

Each is a task per department, opened at the public draw; receiving the file
closes it (late if it is), keeps the file exactly as sent, and is audited.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.errors import UserError
from workflow.files.summary_text import PARTS, read_summary_parts
from workflow.services.campaigns import department_actor
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.tasks import TaskRepository
from workflow.tasks import TASK_LABELS, NewTask, is_overdue, task_key

DEPARTMENT_FILES = ("confirmation_report", "summary")
SUMMARY_SUFFIXES = (".docx", ".xlsx", ".pdf")


def open_department_tasks(conn: Connection, plan: CampaignPlan, *, now: datetime, calendar: WorkdayCalendar) -> int:
    """At the dispatch: each department owes the files the campaign asks for, by their deadlines."""
    tasks = [NewTask(kind, plan.code, resolve_deadline(plan.deadlines[kind], calendar, now), department=d.code)
             for kind in DEPARTMENT_FILES if kind in plan.deadlines for d in plan.departments]
    return TaskRepository(conn).open(tasks, now)


def receive_document(conn: Connection, plan: CampaignPlan, kind: str, department: str, path: Path, *, now: datetime,
                     actor: str, texts: dict[str, str] | None = None) -> bool:
    """Keep a department's file and close its task; returns True when it came late."""
    dept, own = department_actor(conn, plan, department, actor, f"代为报送{label(kind)}")
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError:
        raise UserError(f"{path}: 文件不存在或无法读取") from None
    if kind == "summary" and path.suffix.lower() not in SUMMARY_SUFFIXES:
        raise UserError(f"{path}: 总结应为 DOCX、XLSX 或 PDF 文件")
    parts = read_summary_parts(path) if kind == "summary" and path.suffix.lower() != ".pdf" else {}
    parts = {key: (texts or {}).get(key) or parts.get(key, "") for key in PARTS}
    if kind == "summary" and not any(parts.values()):
        raise UserError(f"{path}: 没有找到“亮点”“经验做法”“存在问题”的内容（PDF 请用 --highlights、--practices、--problems 给出）")
    key = task_key(kind, plan.code, department=department)
    task = conn.execute(select(orm.TaskRow.due_at, orm.TaskRow.done_at).where(orm.TaskRow.key == key)).first()
    digest = hashlib.sha256(content).hexdigest()
    conn.execute(insert(orm.SubmittedDocument.__table__).values(
        campaign_code=plan.code, kind=kind, department_code=department, filename=path.name, content=content,
        sha256=digest, submitted_at=now, submitted_by=actor, **{k: v or None for k, v in parts.items()}))
    late = bool(task and is_overdue(task.due_at, now))
    if task and task.done_at is None:
        TaskRepository(conn).close_department(key, now=now)
    AuditLog(conn).append(campaign_chain(plan.code), [Entry(kind, actor, now, plan.code, payload={
        "department": department, "file": path.name, "sha256": digest, "late": late, "on_behalf": not own})])
    return late


def label(kind: str) -> str:
    return TASK_LABELS.get(kind, kind)
