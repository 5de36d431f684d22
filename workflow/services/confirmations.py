"""Departments' 比对确认 answers: one by one (``ssj confirm``) or a returned file (``ssj confirm import``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.confirmation import CONFIRMATIONS, YES
from workflow.errors import NotFound, UserError
from workflow.files.tabular import FileProblem, open_table
from workflow.importing import Problem, Problems, parse_row, plan_header
from workflow.inspection import STATE_LABELS
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.inspections import InspectionRepository
from workflow.persistence.tasks import TaskRepository
from workflow.services.campaigns import department_actor, plan_of
from workflow.services.directory_import import ImportRejected
from workflow.services.inspections import move
from workflow.tasks import DONE, task_key


def record_answer(conn: Connection, plan: CampaignPlan, department: str, uscc: str, *, inspects: bool, reason: str,
                  now: datetime, actor: str) -> bool:
    """A department's 比对确认 for one enterprise; returns True when the office recorded it on its behalf.

    The department's admin or contact answers for it; after the department's
    deadline has passed, the office may answer on its behalf (marked as such).
    The last answer closes the enterprise's confirmation: it moves to 已确认 when
    at least one department inspects (when none does, the office withdraws it).
    """
    dept, own = department_actor(conn, plan, department, actor, "代为比对确认")
    if not inspects and not reason.strip():
        raise UserError(f"{dept.name}不检查企业 {uscc}，须说明理由（--decline 理由）")
    repo = InspectionRepository(conn)
    inspection = repo.get(plan.code, uscc, lock=True)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
    if inspection.state != "sampled":
        raise UserError(f"企业 {uscc} 已不在比对确认阶段（当前为“{STATE_LABELS[inspection.state]}”），不能再更改比对确认")
    if not own:
        due = TaskRepository(conn).due_at(task_key("confirm", plan.code, inspection_id=inspection.id,
                                                   department=department))
        if due is not None and now < due:
            raise UserError(f"{dept.name}的比对确认期限为 {due.astimezone(plan.tz):%Y-%m-%d %H:%M}，期限届满前须由该部门"
                            "自行确认（管理员或联络人）；期限届满后办公室方可代为确认")
    if not repo.record_answer(inspection.id, department, inspects, reason.strip(), now=now, actor=actor,
                              on_behalf=not own):
        raise NotFound(f"企业 {uscc} 没有派发给{dept.name}")
    TaskRepository(conn).close(inspection_id=inspection.id, kind="confirm", department=department, outcome=DONE,
                               now=now)
    payload = {"department": department, "inspects": inspects, "on_behalf": not own}
    if not inspects:
        payload["reason"] = reason.strip()
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("answer", actor, now, plan.code, uscc, payload=payload)])
    answers = repo.answers([inspection.id])[inspection.id]
    if all(a.inspects is not None for a in answers) and any(a.inspects for a in answers):
        move(conn, plan, uscc, "confirm", now=now, actor=actor)  # the last answer closes the confirmation
    return not own


def import_answers(engine: Engine, path: str, *, now: datetime, actor: str) -> tuple[int, int]:
    """A returned answer file, all or nothing; returns (answers recorded, of which on the departments' behalf)."""
    problems = Problems(path)
    warnings: list[str] = []
    try:
        with open_table(path, CONFIRMATIONS.looks_like_header) as table:
            header = plan_header(CONFIRMATIONS, table.header, problems)
            if header.unknown:
                warnings.append(f"{path}: 警告：忽略未知的列 {'、'.join(f'“{u}”' for u in header.unknown)}")
            if header.missing_required:
                names = "、".join(f"“{c.header}”" for c in header.missing_required)
                problems.add(Problem(None, 0, None, f"缺少必需的列 {names}"))
            if problems:
                raise ImportRejected(problems, warnings)
            rows = []
            seen: dict[tuple[str, str, str], int] = {}
            for number, values in table.rows:
                record = parse_row(header, number, values, problems)
                if record is None:
                    continue
                key = (record["campaign"], record["department"], record["uscc"])
                if key in seen:
                    problems.add(Problem(number, header.index_of("uscc"), header.header_of("uscc"),
                                         f"与第 {seen[key]} 行重复（同一任务、部门和企业）"))
                    continue
                seen[key] = number
                rows.append((number, record))
    except FileProblem as exc:
        problems.add(Problem(None, 0, None, str(exc)))
        raise ImportRejected(problems, warnings) from None
    if not rows and not problems:
        problems.add(Problem(None, 0, None, "文件没有数据行"))
    if problems:
        raise ImportRejected(problems, warnings)
    recorded = on_behalf = 0
    with engine.begin() as conn:
        plans: dict[str, CampaignPlan] = {}
        for number, record in rows:
            column = "campaign"
            try:
                if record["campaign"] not in plans:
                    plans[record["campaign"]] = plan_of(conn, record["campaign"])
                column = "uscc"
                on_behalf += record_answer(conn, plans[record["campaign"]], record["department"], record["uscc"],
                                           inspects=record["inspect"] == YES, reason=record.get("reason") or "",
                                           now=now, actor=actor)
                recorded += 1
            except UserError as exc:
                problems.add(Problem(number, header.index_of(column), header.header_of(column), str(exc)))
        if problems:
            conn.rollback()
            raise ImportRejected(problems, warnings)
    return recorded, on_behalf
