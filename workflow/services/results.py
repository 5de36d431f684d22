"""The joint visit and the back-fill, whichever way they come in (CLI entry or a filled 一企一表).

A recorded visit moves the enterprise 已分派 → 已检查 and starts two clocks: the
back-fill (``backfill``, 5 working days after the visit in the seed) and the public
disclosure (``publish``, 20 working days). When every item of the form has its
result, the enterprise moves 已检查 → 已回填 and the back-fill task closes — late
if it is, and recorded as such. Every rule refuses with a Chinese reason; the
callers decide where the reason points (an option, or a cell of the form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Connection, delete, insert, select, update

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.errors import NotFound, UserError
from workflow.identity import is_office_staff, is_team_member
from workflow.inspection import NOBODY_SIGNED, REFUSED, SIGNATURES, STATE_LABELS, Inspection
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.inspections import InspectionRepository
from workflow.persistence.tasks import TaskRepository
from workflow.results import ABNORMAL_CODES, ItemResult, normalise_codes, result_problems
from workflow.services.inspections import move
from workflow.tasks import DONE, NewTask, is_overdue, task_key


def _inspection(conn: Connection, plan: CampaignPlan, uscc: str, states: tuple[str, ...], doing: str) -> Inspection:
    inspection = InspectionRepository(conn).get(plan.code, uscc, lock=True)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
    if inspection.state not in states:
        raise UserError(f"企业 {uscc} 当前为“{STATE_LABELS[inspection.state]}”，不能{doing}")
    return inspection


def visit_problems(conn: Connection, plan: CampaignPlan, inspection: Inspection, day: date,
                   officers: list[str], signature: str, note: str) -> list[tuple[str, str]]:
    """Everything wrong with a visit as recorded, each with its field (date, officers, signature, note)."""
    problems = []
    window = plan.deadlines["visit"]
    if not window.start <= day <= window.end:
        problems.append(("date", f"核查日期 {day} 不在实地核查时间 {window.start} 至 {window.end} 之内"))
    t, o = orm.TeamMemberRow, orm.Officer
    team = {r.certificate_no: r for r in conn.execute(
        select(t.certificate_no, t.specialist, o.name, o.certificate_valid_until)
        .join(o, o.certificate_no == t.certificate_no)
        .where(t.inspection_id == inspection.id, t.released_at.is_(None)))}
    strangers = [c for c in officers if c not in team]
    if strangers:
        problems.append(("officers", f"执法人员 {'、'.join(strangers)} 不在该企业的检查组中"))
    expired = [f"{team[c].name}（{c}，有效期至 {team[c].certificate_valid_until}）" for c in officers
               if c in team and team[c].certificate_valid_until < day]
    if expired:
        problems.append(("officers", f"执法证在核查当日已过期：{'、'.join(expired)}"))
    counted = {c for c in officers if c in team and not team[c].specialist}
    if len(counted) < 2:
        problems.append(("officers", f"到场的检查组执法人员 {len(counted)} 人，少于 2 人（专业人员不计）"))
    if signature not in SIGNATURES:
        problems.append(("signature", f"签字情况“{signature}”应为{'、'.join(SIGNATURES)}之一"))
    elif signature in (REFUSED, NOBODY_SIGNED) and not note.strip():
        problems.append(("note", f"“{signature}”须如实记录情况说明"))
    return problems


def _require_team(conn: Connection, plan: CampaignPlan, inspection: Inspection, actor: str, doing: str) -> None:
    """An officer acts only for his own team's enterprises (by certificate number or email); the office for any."""
    if is_office_staff(plan, actor):
        return
    t, o = orm.TeamMemberRow, orm.Officer
    team = dict(conn.execute(select(t.certificate_no, o.email).join(o, o.certificate_no == t.certificate_no)
                             .where(t.inspection_id == inspection.id, t.released_at.is_(None))).all())
    if not is_team_member(actor, team):
        raise UserError(f"“{actor}”不是企业 {inspection.uscc} 检查组的执法人员，也不是领导小组办公室的工作人员，不能{doing}")


def record_visit(conn: Connection, plan: CampaignPlan, uscc: str, *, day: date, officers: list[str],
                 signature: str, note: str, now: datetime, actor: str, calendar: WorkdayCalendar) -> Inspection:
    """Store the joint visit and move 已分派 → 已检查; the back-fill and disclosure clocks start."""
    inspection = _inspection(conn, plan, uscc, ("assigned",), "记录实地核查")
    _require_team(conn, plan, inspection, actor, "记录实地核查")
    officers = list(dict.fromkeys(c.strip() for c in officers if c.strip()))
    problems = [message for _, message in visit_problems(conn, plan, inspection, day, officers, signature, note)]
    if problems:
        raise UserError(f"企业 {uscc} 的实地核查不能记录：{'；'.join(problems)}",
                        [f"企业 {uscc} 的实地核查不能记录：", *(f"  {p}" for p in problems)])
    conn.execute(update(orm.InspectionRow.__table__).where(orm.InspectionRow.id == inspection.id).values(
        visit_date=day, visit_signature=signature, visit_note=note.strip() or None, visit_recorded_at=now,
        visit_recorded_by=actor))
    conn.execute(insert(orm.VisitOfficer.__table__), [{"inspection_id": inspection.id, "certificate_no": c}
                                                      for c in officers])
    move(conn, plan, uscc, "inspect", now=now, actor=actor)
    visited = datetime.combine(day, time(12), plan.tz)
    TaskRepository(conn).open([
        NewTask(kind, plan.code, resolve_deadline(plan.deadlines[kind], calendar, visited), inspection.id)
        for kind in ("backfill", "publish")], now)
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("visit", actor, now, plan.code, uscc, payload={
        "date": day.isoformat(), "officers": officers, "signature": signature, "note": note.strip()})])
    return inspection


@dataclass(frozen=True)
class Recorded:
    abnormal: bool  # B, C or 6: grounds for 列入经营异常名录
    reported: bool  # that was the last item: the enterprise is 已回填
    late: bool  # … and its back-fill was late


def form_items(conn: Connection, plan: CampaignPlan, inspection_id: int) -> list[str]:
    """The items on an enterprise's form: those of the departments that inspect it."""
    answers = InspectionRepository(conn).answers([inspection_id]).get(inspection_id, ())
    items_of = {d.code: d.items for d in plan.departments}
    return [code for a in answers if a.inspects for code in items_of.get(a.department, ())]


def result_of(item: str, codes: str | list[str], *, finding: str = "", method: str = "",
              handling: list[int] | None = None, handling_note: str = "", questions: int = 0) -> ItemResult:
    """An item's result from what a person writes: "A,B", "AB", "A、B" or a list; handling numbers."""
    if isinstance(codes, str):  # every code is one character: separators are optional
        codes = list(re.sub(r"[\s,，、;；/]+", "", codes))
    return ItemResult(item, normalise_codes(set(codes)), finding.strip(), method.strip(), frozenset(handling or ()),
                      handling_note.strip(), questions)


def record_result(conn: Connection, plan: CampaignPlan, uscc: str, result: ItemResult, *, now: datetime,
                  actor: str) -> Recorded:
    """Store one item's result; the last item moves the enterprise to 已回填."""
    inspection = _inspection(conn, plan, uscc, ("inspected",), "回填检查结果（须先记录实地核查，已回填的不能再改）")
    _require_team(conn, plan, inspection, actor, "回填检查结果")
    items = form_items(conn, plan, inspection.id)
    if result.item_code not in items:
        raise UserError(f"抽查事项“{result.item_code}”不在企业 {uscc} 的一企一表上（表上的事项：{'、'.join(items)}）")
    problems = result_problems(result)
    if problems:
        raise UserError(f"企业 {uscc} 抽查事项 {result.item_code} 的结果不能记录：{'；'.join(problems)}",
                        [f"企业 {uscc} 抽查事项 {result.item_code} 的结果不能记录：", *(f"  {p}" for p in problems)])
    key = {"inspection_id": inspection.id, "item_code": result.item_code}
    for table in (orm.ResultCode, orm.ResultHandling, orm.ItemResultRow):
        conn.execute(delete(table.__table__).where(table.inspection_id == inspection.id,
                                                   table.item_code == result.item_code))
    conn.execute(insert(orm.ItemResultRow.__table__).values(
        **key, finding=result.finding or None, method=result.method or None,
        handling_note=result.handling_note or None, questions=result.questions, recorded_at=now, recorded_by=actor))
    conn.execute(insert(orm.ResultCode.__table__), [{**key, "code": c} for c in sorted(result.codes)])
    if result.handling:
        conn.execute(insert(orm.ResultHandling.__table__), [{**key, "handling": h} for h in sorted(result.handling)])
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("result", actor, now, plan.code, uscc, payload={
        "item": result.item_code, "codes": sorted(result.codes), "finding": result.finding,
        "handling": sorted(result.handling), "questions": result.questions})])
    done = set(conn.execute(select(orm.ItemResultRow.item_code).where(
        orm.ItemResultRow.inspection_id == inspection.id)).scalars())
    abnormal = bool(result.codes & ABNORMAL_CODES)
    if not set(items) <= done:
        return Recorded(abnormal, False, False)
    move(conn, plan, uscc, "report", now=now, actor=actor)
    tasks = TaskRepository(conn)
    due = tasks.due_at(task_key("backfill", plan.code, inspection_id=inspection.id))
    tasks.close(inspection_id=inspection.id, kind="backfill", outcome=DONE, now=now)
    return Recorded(abnormal, True, due is not None and is_overdue(due, now))
