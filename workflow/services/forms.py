"""``ssj forms`` and the tick's forms dispatch: the visit schedule, the 一企一表 files, and their dispatch.

The forms are computed and their files written while no transaction is held; then
one short transaction checks that nothing changed meanwhile, stores the schedule,
and moves every confirmed enterprise with its team to 已分派 — whose reactions open
the officers' acknowledgement tasks and queue their mail. A process killed
anywhere before that commit leaves the campaign as it was (files written so far
are rewritten by the next run); the next tick, which finds confirmed enterprises
waiting, does it all again. Visits already scheduled keep their day; running it
again rewrites the files and mails the officers who have not had them today.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from workflow.file_tokens import FORM, sign
from workflow.deadline_words import day_words
from workflow.errors import UserError
from workflow.identity import require_office
from workflow.services.permissions import officer_actor
from workflow.inspection import ASSIGNED, CONFIRMED
from workflow.machine import ASSIGN, ISSUE_FORM, states_allowing
from workflow.schedule import Slot, schedule_visits
from workflow.services.facts import form_items
from workflow.services.inspections import BatchReport, move_all
from workflow.services.reactions import dispatch_to_officers
from workflow.tasks import is_overdue, task_key

if TYPE_CHECKING:  # the writers (openpyxl, python-docx) load when forms are made, not with every tick
    from workflow.files.forms import Form


@dataclass(frozen=True)
class FormsReport:
    forms: int
    schedule: Path
    assigned: BatchReport
    acknowledgements: int


def generate_forms(uow) -> FormsReport:
    """Schedule the visits, write every form and the schedule into the campaign's folder, then assign and
    dispatch in one short transaction (the files are written while no transaction is held: on SQLite, other
    writers — an officer's acknowledgement, the sender — never wait for them)."""
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "生成和派发一企一表", system_may=True)
        forms, _ = _plan(uow)
    visit = plan.deadlines["visit"]
    digests, schedule_path = _write_files(uow.files_dir, forms, f"{plan.name} 实地核查安排："
                                                                f"{day_words(visit.start)}至{day_words(visit.end)}")
    uow.seam("forms:files")
    with uow:
        again, current = _plan(uow)
        if again != forms:
            raise UserError("生成一企一表期间检查组、核查安排或企业信息有变化，未派发；请重新生成（定时推进会自动重试）")
        uow.inspections.set_schedule(plan.code, [(f.uscc, f.planned_on, f.group) for f in forms], now=uow.now)
        uow.record("forms", payload={"forms": len(forms), "files": digests,
                                     "schedule_sha256": hashlib.sha256(schedule_path.read_bytes()).hexdigest(),
                                     "schedule": {f.uscc: [f.planned_on.isoformat(), f.group] for f in forms}})
        uow.seam("forms:scheduled")
        before = uow.tasks.count(plan.code, "acknowledge")
        assigned = move_all(uow, ASSIGN, source=CONFIRMED)  # reactions: acknowledgement tasks, officers' mail
        uow.seam("forms:assigned")
        dispatch_to_officers(uow, [i for i in current if i.state == ASSIGNED])  # assigned before: e.g. a substitute
        opened = uow.tasks.count(plan.code, "acknowledge") - before
    return FormsReport(len(forms), schedule_path, assigned, opened)


def _plan(uow) -> tuple[list[Form], list]:
    """Every form to issue (confirmed and assigned enterprises, each on its scheduled day), and those enterprises;
    refused in Chinese when there is none, a team is missing or the visits cannot be scheduled."""
    plan, repo = uow.plan, uow.inspections
    current = [i for state in states_allowing(ISSUE_FORM) for i in repo.in_campaign(plan.code, state=state)]
    if not current:
        raise UserError(f"抽查任务“{plan.code}”没有已确认或已分派的检查对象，无需生成一企一表")
    teams = uow.teams.of_campaign(plan.code)
    missing = sorted(i.uscc for i in current if i.uscc not in teams)
    if missing:
        raise UserError(f"尚有 {len(missing)} 户企业没有检查组（先 ssj match commit / run）：{'、'.join(missing[:10])}")
    visit = plan.deadlines["visit"]
    days = [visit.start + timedelta(days=n) for n in range((visit.end - visit.start).days + 1)]
    fixed = {u: Slot(d, g) for u, d, g in repo.planned(plan.code, states_allowing(ISSUE_FORM))}
    by_uscc = {ins.uscc: frozenset(m["certificate_no"] for m in teams[ins.uscc]) for ins in current}
    schedule = schedule_visits(by_uscc, [d for d in days if uow.calendar.is_workday(d)],
                               vehicles=plan.matching.vehicles,
                               max_visits_per_day=plan.matching.max_visits_per_officer_per_day,
                               fixed={u: s for u, s in fixed.items() if u in by_uscc})
    if schedule.problems:
        head = f"无法安排实地核查（{len(schedule.problems)} 户），未生成一企一表："
        raise UserError(head, [head, *schedule.problems])
    return _forms(uow, current, teams, schedule.slots), current


def _forms(uow, inspections, teams, slots) -> list[Form]:
    from workflow.files.forms import Form, FormItem, FormMember

    plan = uow.plan
    names = uow.directory.department_names()
    items = uow.directory.items()
    contents = uow.directory.contents()
    answers = uow.inspections.answers([i.id for i in inspections])
    enterprises = uow.directory.enterprises([i.uscc for i in inspections])
    forms = []
    secret = uow.settings.reply_secret()
    for ins in inspections:
        ent = enterprises[ins.uscc]
        on_form = tuple(FormItem(names.get(items[code].department_code, ""), code, items[code].name,
                                 tuple(contents.get(code, ())), items[code].method or "")
                        for code in form_items(plan, answers.get(ins.id, ())))
        team = tuple(FormMember(m["name"], m["certificate_no"], names.get(m["department_code"], m["department_code"]),
                                bool(m["specialist"])) for m in teams[ins.uscc])
        slot = slots[ins.uscc]
        forms.append(Form(plan.code, plan.name, plan.document_no, plan.office, ins.uscc, ent.name, ent.address or "",
                          ent.legal_representative or "", ent.phone or "", on_form, team, slot.day, slot.group,
                          sign(secret, plan.code, FORM, ins.uscc)))
    return forms


def _write_files(folder: Path, forms: list[Form], title: str) -> tuple[dict[str, str], Path]:
    """Every form as XLSX and DOCX, and the schedule; returns the files' SHA-256 and the schedule's path."""
    from workflow.files.forms import write_form_docx, write_form_xlsx, write_schedule_xlsx

    (folder / "一企一表").mkdir(parents=True, exist_ok=True)
    digests = {}
    for form in forms:
        for stale in (folder / "一企一表").glob(f"{form.uscc}-*"):  # an earlier file under the enterprise's old name
            if stale.stem != form.file_stem:
                stale.unlink()
        for suffix, write in ((".xlsx", write_form_xlsx), (".docx", write_form_docx)):
            path = folder / "一企一表" / f"{form.file_stem}{suffix}"
            write(form, path)
            digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    schedule_path = folder / "实地核查安排.xlsx"
    rows = sorted(((f.planned_on, f.group, f.uscc, f.enterprise, f.address,
                    "、".join(f"{m.name}（{m.certificate_no}）" for m in f.team)) for f in forms))
    write_schedule_xlsx(title, rows, schedule_path)
    return digests, schedule_path


def acknowledge(uow, certificate_no: str) -> bool:
    """An officer acknowledges his 一企一表 (himself, or the office for him); returns True when late."""
    with uow:
        plan = uow.plan
        on_behalf = officer_actor(uow, certificate_no, "确认一企一表")
        key = task_key("acknowledge", plan.code, certificate_no=certificate_no)
        task = uow.tasks.get(key)
        if task is None:
            raise UserError(f"执法人员 {certificate_no} 没有待确认的一企一表（抽查任务“{plan.code}”）")
        if task.done_at is not None:
            raise UserError(f"执法人员 {certificate_no} 已于 {task.done_at.astimezone(plan.tz):%Y-%m-%d %H:%M} 确认")
        uow.tasks.close_key(key, now=uow.now)
        late = is_overdue(task.due_at, uow.now)
        uow.record("acknowledge", payload={"certificate_no": certificate_no, "late": late,
                                           "on_behalf": on_behalf})
        return late
