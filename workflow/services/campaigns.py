"""Storing a campaign and telling where it stands.

``create_campaign`` validates the file (``workflow.campaign_file``) and then the
references only the database can check: the departments and items it names must
be in the directories, and each item must belong to the department listing it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from calendars import CalendarFileError, WorkdayCalendar

from workflow.campaign_file import CampaignFileError, CampaignPlan, parse_campaign
from workflow.draw import sample_size
from workflow.errors import NotFound, UserError
from workflow.identity import is_office_staff, same_identity
from workflow.inspection import STATES
from workflow.persistence import orm
from workflow.persistence.queries import count_of, eligible_enterprises
from workflow.plan_checker import plan_calendar

def reference_problems(session: Session, plan: CampaignPlan) -> list[tuple[str, str]]:
    """Directory references of a valid plan that the database does not know."""
    problems: list[tuple[str, str]] = []
    departments = {d.code: d for d in session.scalars(select(orm.Department))}
    items = {i.code: i for i in session.scalars(select(orm.InspectionItem))}
    if plan.lead_department not in departments:
        problems.append(("campaign.lead_department", f"部门“{plan.lead_department}”不在部门名录中"))
    for i, dept in enumerate(plan.departments):
        if dept.code not in departments:
            problems.append((f"departments[{i}].code", f"部门“{dept.code}”不在部门名录中（请先导入部门名录）"))
            continue
        if not departments[dept.code].in_latest_directory:
            problems.append((f"departments[{i}].code", f"部门“{dept.code}”已不在最新名录中"))
        for item_code in dept.items:
            item = items.get(item_code)
            if item is None:
                problems.append((f"departments[{i}].items", f"抽查事项“{item_code}”不在抽查事项清单中（请先导入清单）"))
            elif item.department_code != dept.code:
                problems.append((f"departments[{i}].items",
                                 f"抽查事项“{item_code}”的检查主体是“{item.department_code}”，不是“{dept.code}”"))
            elif not item.in_latest_directory:
                problems.append((f"departments[{i}].items", f"抽查事项“{item_code}”已不在最新清单中"))
    return problems


def create_campaign(session: Session, source: str, path: str, *, now: datetime, user: str) -> CampaignPlan:
    try:
        plan = parse_campaign(source)
    except CampaignFileError as exc:
        raise UserError(exc.lines(path)[0], exc.lines(path)) from None
    if session.get(orm.Campaign, plan.code) is not None:
        raise UserError(f"{path}: campaign.code: 抽查任务“{plan.code}”已存在")
    problems = reference_problems(session, plan)
    if problems:
        lines = CampaignFileError(problems).lines(path)
        raise UserError(lines[0], lines)
    session.add(
        orm.Campaign(
            code=plan.code, name=plan.name, document_no=plan.document_no, office=plan.office,
            lead_department_code=plan.lead_department, timezone=plan.timezone, window_from=plan.window_from,
            window_to=plan.window_to, draw_at=plan.draw_at, plan=plan.to_json(), source_toml=source,
            source_sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(), created_at=now, created_by=user,
            calendar_sha256=calendar_fingerprint(plan), calendar_files=calendar_snapshot(plan),
        )
    )
    session.flush()
    for dept in plan.departments:
        session.add(orm.CampaignDepartment(campaign_code=plan.code, department_code=dept.code,
                                           is_lead=dept.code == plan.lead_department))
        for item_code in dept.items:
            session.add(orm.CampaignItem(campaign_code=plan.code, item_code=item_code, department_code=dept.code))
    return plan


def _unknown(code: str) -> NotFound:
    return NotFound(f"抽查任务“{code}”不存在（用 ssj campaign create 创建）")


def load_plan(session: Session, code: str) -> tuple[orm.Campaign, CampaignPlan]:
    campaign = session.get(orm.Campaign, code)
    if campaign is None:
        raise _unknown(code)
    return campaign, parse_campaign(campaign.source_toml)


def plan_of(conn: Connection, code: str) -> CampaignPlan:
    """The stored plan of campaign ``code`` (NotFound when there is none)."""
    row = conn.execute(select(orm.Campaign.source_toml, orm.Campaign.calendar_files)
                       .where(orm.Campaign.code == code)).first()
    if row is None:
        raise _unknown(code)
    return dataclasses.replace(parse_campaign(row.source_toml), calendar_snapshot=row.calendar_files)


def campaign_calendar(plan: CampaignPlan, base_dir: Path | None = None) -> WorkdayCalendar:
    """The campaign's working-day calendar; its own files are read relative to ``base_dir`` (default: here).

    When an override file is now broken (bad TOML, a wrong date, gone), the calendar
    the campaign last adopted stays in force; ``calendar_problem`` says why.
    """
    try:
        return plan_calendar(plan, base_dir or Path.cwd())
    except CalendarFileError:
        if not plan.calendar_snapshot:
            raise
        return WorkdayCalendar.from_texts([tuple(f) for f in json.loads(plan.calendar_snapshot)],
                                          provisional=plan.provisional_calendar)


def calendar_problem(plan: CampaignPlan, base_dir: Path | None = None) -> str | None:
    """Why the override files as they are now are refused (and the adopted calendar kept), or None."""
    try:
        plan_calendar(plan, base_dir or Path.cwd())
    except CalendarFileError as exc:
        kept = "仍按上次采用的日历计算期限" if plan.calendar_snapshot else "没有可沿用的日历"
        return f"工作日历文件有误，未采用：{exc}；{kept}（改正文件后，下一次推进或 ssj calendar reload 重新计算）"
    return None


def calendar_snapshot(plan: CampaignPlan, base_dir: Path | None = None) -> str | None:
    """The override files the campaign's calendar reads now, to keep with its deadlines (None if one is broken)."""
    from calendars.workday_calendar import bundled_files, environment_files

    if calendar_problem(plan, base_dir) is not None:
        return None
    files = [*bundled_files(), *environment_files(),
             *(Path(p) if Path(p).is_absolute() else (base_dir or Path.cwd()) / p for p in plan.calendar_files)]
    return json.dumps([[str(p), Path(p).read_text(encoding="utf-8")] for p in files], ensure_ascii=False)


def department_actor(conn: Connection, plan: CampaignPlan, department: str, actor: str, doing: str):
    """The participating department's row, and whether ``actor`` is its own admin or contact (else the office).

    Anyone else is refused: a department answers and submits for itself; the office may act for it.
    """
    dept = conn.execute(select(orm.Department.__table__).where(orm.Department.code == department)).first()
    if dept is None or department not in {d.code for d in plan.departments}:
        raise NotFound(f"部门“{department}”没有参加抽查任务“{plan.code}”")
    own = any(same_identity(actor, who) for who in (dept.admin_email, dept.contact_email))
    if not own and not is_office_staff(plan, actor):
        raise UserError(f"“{actor}”不是{dept.name}的管理员或联络人，也不是领导小组办公室的工作人员，不能{doing}")
    return dept, own


def calendar_fingerprint(plan: CampaignPlan, base_dir: Path | None = None) -> str:
    """SHA-256 over every override file the campaign's calendar reads: a change means deadlines may move."""
    from calendars.workday_calendar import bundled_files, environment_files

    digest = hashlib.sha256(f"provisional={plan.provisional_calendar}".encode())
    files = [*bundled_files(), *environment_files(),
             *(Path(p) if Path(p).is_absolute() else (base_dir or Path.cwd()) / p for p in plan.calendar_files)]
    for path in files:
        digest.update(str(Path(path).name).encode("utf-8") + b"\0")
        digest.update(Path(path).read_bytes() if Path(path).exists() else b"(missing)")
    return digest.hexdigest()


def state_counts(session: Session, code: str) -> dict[str, int]:
    i = orm.InspectionRow
    rows = session.execute(select(i.state, func.count()).where(i.campaign_code == code).group_by(i.state))
    counts = {state: n for state, n in rows}
    return {state: counts.get(state, 0) for state in STATES}


@dataclass(frozen=True)
class DirectoryNumbers:
    enterprises: int
    not_in_latest: int
    by_category_status: dict[str, dict[str, int]]
    eligible: int
    expected_sample: int


def directory_numbers(session: Session, plan: CampaignPlan) -> DirectoryNumbers:
    """What the directory holds, and how much of it the campaign's criteria select."""
    e = orm.Enterprise
    table: dict[str, dict[str, int]] = {}
    for category, status, n in session.execute(
        select(e.category, e.status, func.count()).where(e.in_latest_directory.is_(True)).group_by(e.category, e.status)
    ):
        table.setdefault(category, {})[status] = n
    total = session.scalar(select(func.count()).select_from(e)) or 0
    not_latest = session.scalar(select(func.count()).select_from(e).where(e.in_latest_directory.is_(False))) or 0
    eligible = session.scalar(count_of(eligible_enterprises(plan.sampling, plan.draw_at))) or 0
    s = plan.sampling
    return DirectoryNumbers(total, not_latest, table, eligible,
                            sample_size(eligible, s.ratio, s.rounding, s.minimum) if eligible else 0)


def redraw_note(conn: Connection, plan: CampaignPlan) -> str:
    """How every report marks a re-drawn campaign ("" when it was drawn once)."""
    d = orm.DrawRow
    rounds = conn.execute(select(d.round, d.redraw_reason).where(
        d.campaign_code == plan.code, d.kind == "enterprises", d.round > 1).order_by(d.round)).all()
    if not rounds:
        return ""
    return "本任务经重新抽取（" + "；".join(f"第 {r} 轮：{reason}" for r, reason in rounds) + "）"


def draw_summary(session: Session, plan: CampaignPlan) -> dict[str, Any] | None:
    """The enterprise draw as people should see it — a re-drawn campaign shows every round."""
    d = orm.DrawRow
    rounds = session.execute(select(d).where(d.campaign_code == plan.code, d.kind == "enterprises")
                             .order_by(d.round)).scalars().all()
    if not rounds:
        return None
    last = rounds[-1]
    tz = plan.tz
    return {
        "round": last.round,
        "committed_at": last.committed_at.astimezone(tz).isoformat(),
        "commitment": last.commitment,
        "snapshot_sha256": last.snapshot_sha256,
        "eligible": last.eligible,
        "run_at": last.run_at.astimezone(tz).isoformat() if last.run_at else None,
        "sample_size": json.loads(last.result)["sample_size"] if last.result else None,
        "redraws": [{"round": r.round, "reason": r.redraw_reason, "at": r.committed_at.astimezone(tz).isoformat()}
                    for r in rounds if r.round > 1],
    }


def campaign_status(session: Session, code: str) -> dict[str, Any]:
    campaign, plan = load_plan(session, code)
    departments = {d.code: d.name for d in session.scalars(select(orm.Department))}
    numbers = directory_numbers(session, plan)
    return {
        "code": plan.code,
        "name": plan.name,
        "document_no": plan.document_no,
        "office": plan.office,
        "lead_department": plan.lead_department,
        "window": [plan.window_from.isoformat(), plan.window_to.isoformat()],
        "draw_at": plan.draw_at.isoformat(),
        "departments": [
            {"code": d.code, "name": departments.get(d.code, d.code), "items": list(d.items)} for d in plan.departments
        ],
        "deadlines": {name: spec.describe() for name, spec in plan.deadlines.items()},
        "sampling": {
            "eligible_now": numbers.eligible,
            "expected_sample_size": numbers.expected_sample,
            "ratio": plan.sampling.ratio_text,
            "rounding": plan.sampling.rounding,
        },
        "draw": draw_summary(session, plan),
        "inspections": state_counts(session, code),
        "created_at": campaign.created_at.isoformat(),
        "created_by": campaign.created_by,
    }
