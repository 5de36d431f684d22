"""``ssj forms``: the visit schedule, the 一企一表 files, and the forms' dispatch to the officers.

Generating the forms completes the assignment: each confirmed enterprise with its
team moves to 已分派 (the ``assign`` guard checks team and forms), and every officer
on a team gets an acknowledgement task due per the campaign's ``acknowledge`` rule.
Visits already scheduled keep their day; running it again rewrites the files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.errors import UserError
from workflow.files.forms import Form, FormItem, FormMember, write_form_docx, write_form_xlsx, write_schedule_xlsx
from workflow.services.outbox import queue
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.inspections import InspectionRepository
from workflow.persistence.tasks import TaskRepository
from workflow.schedule import Slot, schedule_visits
from workflow.services.inspections import BatchReport, move_all
from workflow.services.officer_draw import teams_of
from workflow.identity import is_office_staff, require_office, same_identity
from workflow.tasks import DONE, NewTask, is_overdue, task_key


@dataclass(frozen=True)
class FormsReport:
    forms: int
    schedule: Path
    assigned: BatchReport
    acknowledgements: int


def generate_forms(engine: Engine, plan: CampaignPlan, out_dir: Path, *, now: datetime, actor: str,
                   calendar: WorkdayCalendar) -> FormsReport:
    require_office(plan, actor, "生成和派发一企一表", system_may=True)
    visit = plan.deadlines["visit"]
    days = [visit.start + timedelta(days=n) for n in range((visit.end - visit.start).days + 1)]
    days = [d for d in days if calendar.is_workday(d)]
    with engine.begin() as conn:
        repo = InspectionRepository(conn)
        current = repo.in_campaign(plan.code, state="confirmed") + repo.in_campaign(plan.code, state="assigned")
        if not current:
            raise UserError(f"抽查任务“{plan.code}”没有已确认或已分派的检查对象，无需生成一企一表")
        teams = teams_of(conn, plan.code)
        missing = sorted(i.uscc for i in current if i.uscc not in teams)
        if missing:
            raise UserError(f"尚有 {len(missing)} 户企业没有检查组（先 ssj match commit / run）：{'、'.join(missing[:10])}")
        i = orm.InspectionRow
        fixed = {u: Slot(d, g) for u, d, g in conn.execute(select(i.uscc, i.planned_visit_on, i.visit_group).where(
            i.campaign_code == plan.code, i.planned_visit_on.is_not(None), i.state.in_(("confirmed", "assigned"))))}
        by_uscc = {ins.uscc: frozenset(m["certificate_no"] for m in teams[ins.uscc]) for ins in current}
        schedule = schedule_visits(by_uscc, days, vehicles=plan.matching.vehicles,
                                   max_visits_per_day=plan.matching.max_visits_per_officer_per_day,
                                   fixed={u: s for u, s in fixed.items() if u in by_uscc})
        if schedule.problems:
            raise UserError(f"无法安排实地核查（{len(schedule.problems)} 户），未生成一企一表：",
                            [f"无法安排实地核查（{len(schedule.problems)} 户），未生成一企一表：", *schedule.problems])
        forms = _forms(conn, plan, current, teams, schedule.slots)
    out_dir = Path(out_dir)
    (out_dir / "一企一表").mkdir(parents=True, exist_ok=True)
    digests = {}
    for form in forms:
        for stale in (out_dir / "一企一表").glob(f"{form.uscc}-*"):  # an earlier file under the enterprise's old name
            if stale.stem != form.file_stem:
                stale.unlink()
        for suffix, write in ((".xlsx", write_form_xlsx), (".docx", write_form_docx)):
            path = out_dir / "一企一表" / f"{form.file_stem}{suffix}"
            write(form, path)
            digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    schedule_path = out_dir / "实地核查安排.xlsx"
    rows = sorted(((f.planned_on, f.group, f.uscc, f.enterprise, f.address,
                    "、".join(f"{m.name}（{m.certificate_no}）" for m in f.team)) for f in forms))
    write_schedule_xlsx(f"{plan.name} 实地核查安排（{visit.start} 至 {visit.end}）", rows, schedule_path)
    with engine.begin() as conn:
        for form in forms:
            conn.execute(update(orm.InspectionRow.__table__).where(
                orm.InspectionRow.campaign_code == plan.code, orm.InspectionRow.uscc == form.uscc)
                .values(planned_visit_on=form.planned_on, visit_group=form.group, forms_generated_at=now))
        AuditLog(conn).append(campaign_chain(plan.code), [Entry("forms", actor, now, plan.code, payload={
            "forms": len(forms), "files": digests,
            "schedule_sha256": hashlib.sha256(schedule_path.read_bytes()).hexdigest()})])
    assigned = move_all(engine, plan, "assign", source="confirmed", now=now, actor=actor)
    due = resolve_deadline(plan.deadlines["acknowledge"], calendar, now)
    officers = sorted({m.certificate_no for f in forms for m in f.team if not m.specialist})
    with engine.begin() as conn:
        opened = TaskRepository(conn).open((NewTask("acknowledge", plan.code, due, certificate_no=c)
                                            for c in officers), now)
        _queue_officer_mail(conn, plan, forms, out_dir / "一企一表", due, now)
    return FormsReport(len(forms), schedule_path, assigned, opened)


def _forms(conn, plan: CampaignPlan, inspections, teams, slots) -> list[Form]:
    e, it, c, d = orm.Enterprise, orm.InspectionItem, orm.InspectionItemContent, orm.Department
    names = dict(conn.execute(select(d.code, d.name)).all())
    items = {r.code: r for r in conn.execute(select(it.code, it.name, it.method, it.department_code))}
    contents: dict[str, list[str]] = {}
    for code, text in conn.execute(select(c.item_code, c.text).order_by(c.item_code, c.position)):
        contents.setdefault(code, []).append(text)
    repo = InspectionRepository(conn)
    answers = repo.answers([i.id for i in inspections])
    enterprises = {r.uscc: r for r in conn.execute(select(e).where(e.uscc.in_([i.uscc for i in inspections])))}
    items_of = {dept.code: dept.items for dept in plan.departments}
    forms = []
    for ins in inspections:
        ent = enterprises[ins.uscc]
        inspecting = [a.department for a in answers.get(ins.id, ()) if a.inspects]
        form_items = tuple(FormItem(names.get(dep, dep), code, items[code].name, tuple(contents.get(code, ())),
                                    items[code].method or "")
                           for dep in inspecting for code in items_of.get(dep, ()))
        team = tuple(FormMember(m["name"], m["certificate_no"], names.get(m["department_code"], m["department_code"]),
                                bool(m["specialist"])) for m in teams[ins.uscc])
        slot = slots[ins.uscc]
        forms.append(Form(plan.code, plan.name, plan.document_no, plan.office, ins.uscc, ent.name, ent.address or "",
                          ent.legal_representative or "", ent.phone or "", form_items, team, slot.day, slot.group))
    return forms


def _queue_officer_mail(conn, plan: CampaignPlan, forms: list[Form], folder: Path, due, now: datetime) -> int:
    """Each officer on a team gets his enterprises, dates and their 一企一表 files, by email."""
    o = orm.Officer
    emails = dict(conn.execute(select(o.certificate_no, o.email)).all())
    visits: dict[str, list[Form]] = {}
    names: dict[str, str] = {}
    for form in forms:
        for member in form.team:
            visits.setdefault(member.certificate_no, []).append(form)
            names[member.certificate_no] = member.name
    queued = 0
    stamp = now.astimezone(plan.tz).date().isoformat()
    for cert, theirs in sorted(visits.items()):
        if not emails.get(cert):
            continue
        theirs = sorted(theirs, key=lambda f: (f.planned_on, f.group, f.uscc))
        context = {"officer": names[cert], "certificate_no": cert, "campaign_name": plan.name,
                   "campaign_code": plan.code, "office": plan.office, "due": f"{due.at.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                   "provisional": due.provisional,
                   "visits": [{"day": f.planned_on.isoformat(), "group": f.group, "enterprise": f.enterprise,
                               "uscc": f.uscc, "address": f.address} for f in theirs],
                   "attachments": [str((folder / f"{f.file_stem}{suffix}").resolve()) for f in theirs
                                   for suffix in (".xlsx", ".docx")]}
        queued += queue(conn, plan, key=f"forms|{plan.code}|{stamp}|{cert}", recipients=[emails[cert]],
                        kind="forms", template="forms_dispatch", context=context, now=now)
    return queued


def acknowledge(conn, plan: CampaignPlan, certificate_no: str, *, now: datetime, actor: str) -> bool:
    """An officer acknowledges his 一企一表 (himself, or the office for him); returns True when late."""
    if not same_identity(actor, certificate_no) and not is_office_staff(plan, actor):
        raise UserError(f"“{actor}”不是执法人员 {certificate_no} 本人，也不是领导小组办公室的工作人员")
    t = orm.TaskRow
    key = task_key("acknowledge", plan.code, certificate_no=certificate_no)
    task = conn.execute(select(t.id, t.due_at, t.done_at).where(t.key == key)).first()
    if task is None:
        raise UserError(f"执法人员 {certificate_no} 没有待确认的一企一表（抽查任务“{plan.code}”）")
    if task.done_at is not None:
        raise UserError(f"执法人员 {certificate_no} 已于 {task.done_at.astimezone(plan.tz):%Y-%m-%d %H:%M} 确认")
    conn.execute(update(t.__table__).where(t.id == task.id).values(done_at=now, outcome=DONE))
    late = is_overdue(task.due_at, now)
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("acknowledge", actor, now, plan.code, payload={
        "certificate_no": certificate_no, "late": late, "on_behalf": not same_identity(actor, certificate_no)})])
    return late
