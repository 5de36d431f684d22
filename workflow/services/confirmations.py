"""Departments' 比对确认 answers: one by one (``ssj confirm``) or a returned file (``ssj confirm import``)."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.confirmation import CONFIRMATIONS, YES
from workflow.deadline_words import deadline_words
from workflow.errors import NotFound, UserError
from workflow.files.tabular import FileProblem, open_table
from workflow.importing import ImportRejected, Problem, Problems, parse_row, read_header
from workflow.machine import ANSWER, CONFIRM, ready, require
from workflow.services.facts import facts_for
from workflow.services.inspections import inspection_of
from workflow.services.permissions import department_actor
from workflow.tasks import DONE, task_key


def record_answer(uow, department: str, uscc: str, *, inspects: bool, reason: str) -> bool:
    """A department's 比对确认 for one enterprise; returns True when the office recorded it on its behalf.

    The department's admin or contact answers for it; after the department's
    deadline has passed, the office may answer on its behalf (marked as such).
    The last answer closes the enterprise's confirmation: it moves to 已确认 when
    the ``confirm`` guard holds (every department answered, at least one inspects;
    when none does, the office withdraws it).
    """
    with uow:
        plan, now = uow.plan, uow.now
        dept, own = department_actor(uow, department, "代为比对确认")
        if not inspects and not reason.strip():
            raise UserError(f"{dept.name}不检查企业 {uscc}，须说明理由（--decline 理由）")
        inspection = inspection_of(uow, uscc)
        require(inspection, ANSWER)
        key = task_key("confirm", plan.code, inspection_id=inspection.id, department=department)
        if not own and uow.on_behalf is None:  # named with its ground, the office only conveys the department's answer
            due = uow.tasks.due_at(key)
            if due is not None and now < due:
                raise UserError(f"{dept.name}的比对确认期限为{deadline_words(due, plan.tz)}，期限届满前须由"
                                "该部门自行确认（管理员或联络人）；期限届满后办公室方可代为确认")
        if not uow.inspections.record_answer(inspection.id, department, inspects, reason.strip(), now=now,
                                             actor=uow.actor, on_behalf=not own):
            raise NotFound(f"企业 {uscc} 没有派发给{dept.name}")
        uow.tasks.close(inspection_id=inspection.id, kind="confirm", department=department, outcome=DONE, now=now)
        payload = {"department": department, "inspects": inspects, "on_behalf": not own}
        if not inspects:
            payload["reason"] = reason.strip()
        uow.record("answer", uscc=uscc, payload=payload)
        if ready(inspection, CONFIRM, facts_for(uow, CONFIRM, [inspection])[inspection.id]):
            uow.move(inspection, CONFIRM)  # the last answer closes the confirmation
        return not own


@dataclass(frozen=True)
class ImportedAnswers:
    recorded: int
    on_behalf: int  # of them, recorded on the departments' behalf
    inspects: int  # of them, 检查
    declines: int  # of them, 不检查


def import_answers(uow, path: str) -> ImportedAnswers:
    """A returned answer file, all or nothing."""
    problems = Problems(path)
    warnings: list[str] = []
    try:
        with open_table(path, CONFIRMATIONS.looks_like_header) as table:
            header = read_header(CONFIRMATIONS, table.header, path, problems, warnings, all_required=True)
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
    recorded = on_behalf = inspects = 0
    with uow:
        uow.lock_campaigns(record["campaign"] for _, record in rows)
        by_campaign: dict[str, list[str]] = {}
        for _, record in rows:
            by_campaign.setdefault(record["campaign"], []).append(record["uscc"])
        for code, usccs in by_campaign.items():  # the counts of the file's enterprises tallied in one go, not per row
            uow.counts.touch(i.id for i in uow.inspections.in_campaign(code, usccs=usccs))
        for number, record in rows:
            column = "campaign"
            try:
                uow.use(record["campaign"]).plan  # an unknown campaign is this row's problem
                column = "uscc"
                on_behalf += record_answer(uow, record["department"], record["uscc"],
                                           inspects=record["inspect"] == YES, reason=record.get("reason") or "")
                recorded += 1
                inspects += record["inspect"] == YES
            except UserError as exc:
                problems.add(Problem(number, header.index_of(column), header.header_of(column), str(exc)))
        if problems:
            raise ImportRejected(problems, warnings)  # rolls back every answer of the file
    return ImportedAnswers(recorded, on_behalf, inspects, recorded - inspects)
