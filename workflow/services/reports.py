"""Reports for the leading group, as functions the CLI, the flows and the demo all call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from calendars import WorkdayCalendar
from workflow.campaign_file import CampaignPlan
from workflow.files.report_books import ReportBook
from workflow.files.statistics_table import write_statistics_csv, write_statistics_xlsx
from workflow.inspection import STATE_LABELS
from workflow.persistence import orm
from workflow.persistence.queries import inspecting_department_names, item_codes
from workflow.persistence.statistics import campaign_statistics
from workflow.results import ABNORMAL_CODES, HANDLING, PROBLEM_CODES, enterprise_codes, wording
from workflow.plan_checker import check_plan
from workflow.services.campaigns import redraw_note, state_counts
from workflow.services.outbox import queue
from workflow.statistics import COLUMNS, StatsRow
from workflow.tasks import TASK_LABELS


def statistics(conn: Connection, plan: CampaignPlan) -> list[StatsRow]:
    names = dict(conn.execute(select(orm.Department.code, orm.Department.name)).all())
    return campaign_statistics(conn, plan.code, [(d.code, names.get(d.code, d.code)) for d in plan.departments])


def enterprise_results(conn: Connection, plan: CampaignPlan) -> list[tuple]:
    """One row per drawn enterprise: state, inspecting departments, visit date, results, handling."""
    i, e, rh = orm.InspectionRow, orm.Enterprise, orm.ResultHandling
    base = select(i.id, i.uscc, e.name, i.state, i.visit_date).join(e, e.uscc == i.uscc).where(
        i.campaign_code == plan.code).order_by(i.uscc)
    departments = inspecting_department_names(conn, plan)
    codes = item_codes(conn, plan.code)
    handling: dict[int, set[int]] = {}
    for iid, h in conn.execute(select(rh.inspection_id, rh.handling).join(i, i.id == rh.inspection_id)
                               .where(i.campaign_code == plan.code)):
        handling.setdefault(iid, set()).add(h)
    rows = []
    for iid, uscc, name, state, visit in conn.execute(base):
        items = codes.get(iid, {})
        union = enterprise_codes(list(items.values()))
        rows.append((uscc, name, STATE_LABELS[state], "、".join(departments.get(iid, [])),
                     visit.isoformat() if visit else "", "；".join(wording(union)),
                     sum(1 for s in items.values() if s & PROBLEM_CODES), "是" if union & ABNORMAL_CODES else "",
                     "；".join(HANDLING[h] for h in sorted(handling.get(iid, ())))))
    return rows


def write_statistics(engine: Engine, plan: CampaignPlan, path: Path, *, now: datetime, fmt: str = "xlsx") -> list[StatsRow]:
    """``ssj report stats``: the seed's attachment as XLSX (with a per-enterprise sheet) or CSV."""
    with engine.connect() as conn:
        rows = statistics(conn, plan)
        detail = enterprise_results(conn, plan) if fmt == "xlsx" else []
        note = redraw_note(conn, plan)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_statistics_csv(rows, path)
    else:
        write_statistics_xlsx(f"{plan.name}抽查情况统计表", plan.office, f"{now.astimezone(plan.tz):%Y年%m月%d日}",
                              rows, detail, path, note=note)
    return rows


# --- the overdue-department report -------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    department: str  # the department's name, or 领导小组办公室
    kind: str
    uscc: str
    enterprise: str
    due: datetime
    workdays: int
    responsible: str
    level: int
    provisional: bool


def overdue_tasks(conn: Connection, plan: CampaignPlan, now: datetime, calendar: WorkdayCalendar) -> list[Overdue]:
    """Every open task whose due instant has passed, with the department that owes it and who is responsible."""
    t, i, e, d, o, tm = (orm.TaskRow, orm.InspectionRow, orm.Enterprise, orm.Department, orm.Officer,
                         orm.TeamMemberRow)
    departments = {r.code: r for r in conn.execute(select(d.code, d.name, d.contact_name, d.contact_email))}
    officers = {r.certificate_no: r for r in conn.execute(select(o.certificate_no, o.name, o.department_code))}
    teams: dict[int, list[tuple[str, str]]] = {}
    for iid, cert, dept in conn.execute(select(tm.inspection_id, tm.certificate_no, tm.department_code)
                                        .join(i, i.id == tm.inspection_id)
                                        .where(i.campaign_code == plan.code, tm.released_at.is_(None),
                                               tm.specialist.is_(False))):
        teams.setdefault(iid, []).append((dept, cert))
    rows = conn.execute(select(t.kind, t.inspection_id, t.department_code, t.certificate_no, t.due_at, t.provisional,
                               t.escalation_level, i.uscc, e.name).outerjoin(i, i.id == t.inspection_id)
                        .outerjoin(e, e.uscc == i.uscc)
                        .where(t.campaign_code == plan.code, t.done_at.is_(None), t.due_at <= now)
                        .order_by(t.due_at, t.id)).all()
    today = now.astimezone(plan.tz).date()
    out = []

    def contact(code):
        dep = departments.get(code)
        return f"{dep.contact_name or ''}（{dep.contact_email or '无邮箱'}）" if dep else ""

    for r in rows:
        last_day = (r.due_at.astimezone(plan.tz) - timedelta(microseconds=1)).date()
        late = calendar.workdays_between(last_day, today)
        owners: list[tuple[str, str]]
        if r.department_code:
            owners = [(r.department_code, contact(r.department_code))]
        elif r.certificate_no:
            officer = officers.get(r.certificate_no)
            owners = [(officer.department_code if officer else "", f"{officer.name if officer else ''}（{r.certificate_no}）")]
        elif r.kind == "backfill":
            by_dept: dict[str, list[str]] = {}
            for dept, cert in teams.get(r.inspection_id, []):
                by_dept.setdefault(dept, []).append(f"{officers[cert].name}（{cert}）")
            owners = [(dept, "、".join(names)) for dept, names in sorted(by_dept.items())] or [("", "")]
        else:
            owners = [("", "、".join(plan.office_staff))]
        for dept, who in owners:
            name = departments[dept].name if dept in departments else OFFICE
            out.append(Overdue(name, r.kind, r.uscc or "", r.name or "", r.due_at, late, who, r.escalation_level,
                               bool(r.provisional)))
    return out


OFFICE = "领导小组办公室"


def write_overdue_report(engine: Engine, plan: CampaignPlan, path: Path, *, now: datetime,
                         calendar: WorkdayCalendar) -> list[Overdue]:
    """``ssj report overdue``: overdue work per department (a chart), then every overdue task."""
    with engine.connect() as conn:
        items = overdue_tasks(conn, plan, now, calendar)
        note = redraw_note(conn, plan)
    local = now.astimezone(plan.tz)
    summary: dict[str, dict] = {}
    for x in items:
        s = summary.setdefault(x.department, {"tasks": 0, "enterprises": set(), "max": 0, "people": set()})
        s["tasks"] += 1
        if x.uscc:
            s["enterprises"].add(x.uscc)
        s["max"] = max(s["max"], x.workdays)
        s["people"].add(x.responsible)
    book = ReportBook()
    notes = [f"统计时间：{local:%Y-%m-%d %H:%M}（北京时间）", *([note] if note else [])]
    table = book.sheet("逾期部门", f"{plan.name} 逾期部门情况", ("部门", "逾期事项（项）", "涉及企业（户）", "最长逾期（工作日）",
                                                             "责任人"),
                       [(dept, s["tasks"], len(s["enterprises"]), s["max"], "；".join(sorted(p for p in s["people"] if p)))
                        for dept, s in sorted(summary.items(), key=lambda kv: -kv[1]["tasks"])],
                       widths=(30, 14, 14, 16, 60), notes=notes)
    book.bar_chart(table, "各部门逾期事项", [2, 3], "G3", "项 / 户")
    book.sheet("逾期明细", f"{plan.name} 逾期事项明细", ("部门", "事项", "统一社会信用代码", "企业名称", "截止时间",
                                                     "逾期（工作日）", "责任人", "已升级", "暂定期限"),
               [(x.department, TASK_LABELS.get(x.kind, x.kind), x.uscc, x.enterprise,
                 f"{x.due.astimezone(plan.tz):%Y-%m-%d %H:%M}", x.workdays, x.responsible, x.level,
                 "暂定" if x.provisional else "") for x in items],
               widths=(28, 22, 22, 30, 17, 12, 40, 8, 8), notes=notes)
    book.save(Path(path))
    return items


# --- the confirmation report -----------------------------------------------------------


def write_confirmation_report(engine: Engine, plan: CampaignPlan, path: Path, *, now: datetime) -> dict[str, dict]:
    """``ssj report confirmation``: each department's answers, and its officers with their mobiles (seed)."""
    a, i, e, d, o, tm = (orm.InspectionDepartment, orm.InspectionRow, orm.Enterprise, orm.Department, orm.Officer,
                         orm.TeamMemberRow)
    with engine.connect() as conn:
        names = dict(conn.execute(select(d.code, d.name)).all())
        answers = conn.execute(select(a.department_code, i.uscc, e.name, a.inspects, a.decline_reason, a.answered_at,
                                      a.answered_by, a.on_behalf).join(i, i.id == a.inspection_id)
                               .join(e, e.uscc == i.uscc).where(i.campaign_code == plan.code)
                               .order_by(a.department_code, i.uscc)).all()
        on_teams = conn.execute(select(tm.department_code, o.name, o.certificate_no, o.mobile).distinct()
                                .join(o, o.certificate_no == tm.certificate_no).join(i, i.id == tm.inspection_id)
                                .where(i.campaign_code == plan.code, tm.released_at.is_(None))
                                .order_by(tm.department_code, o.certificate_no)).all()
        pool = conn.execute(select(o.department_code, o.name, o.certificate_no, o.mobile).where(
            o.department_code.in_([x.code for x in plan.departments]), o.status == "在岗",
            o.in_latest_directory.is_(True)).order_by(o.department_code, o.certificate_no)).all()
        note = redraw_note(conn, plan)
    order = {x.code: n for n, x in enumerate(plan.departments)}
    summary: dict[str, dict] = {names.get(x.code, x.code): {"dispatched": 0, "inspect": 0, "decline": 0, "waiting": 0,
                                                             "on_behalf": 0} for x in plan.departments}
    for r in answers:
        s = summary.setdefault(names.get(r.department_code, r.department_code),
                               {"dispatched": 0, "inspect": 0, "decline": 0, "waiting": 0, "on_behalf": 0})
        s["dispatched"] += 1
        s["inspect" if r.inspects else "decline" if r.inspects is False else "waiting"] += 1
        s["on_behalf"] += bool(r.on_behalf)
    local = now.astimezone(plan.tz)
    notes = [f"统计时间：{local:%Y-%m-%d %H:%M}（北京时间）", *([note] if note else [])]
    book = ReportBook()
    table = book.sheet("汇总", f"{plan.name} 比对确认情况", ("部门", "派发（户）", "检查（户）", "不检查（户）", "未答复（户）",
                                                       "办公室代为确认（户）"),
                       [(dept, s["dispatched"], s["inspect"], s["decline"], s["waiting"], s["on_behalf"])
                        for dept, s in summary.items()], widths=(30, 12, 12, 12, 12, 18), notes=notes)
    book.bar_chart(table, "各部门比对确认", [3, 4, 5], "H3", "户")
    book.sheet("比对确认明细", f"{plan.name} 比对确认明细", ("部门", "统一社会信用代码", "企业名称", "是否检查", "不检查理由",
                                                         "确认时间", "确认人", "代为确认"),
               [(names.get(r.department_code, r.department_code), r.uscc, r.name,
                 "是" if r.inspects else "否" if r.inspects is False else "未答复", r.decline_reason or "",
                 f"{r.answered_at.astimezone(plan.tz):%Y-%m-%d %H:%M}" if r.answered_at else "", r.answered_by or "",
                 "是" if r.on_behalf else "")
                for r in sorted(answers, key=lambda r: (order.get(r.department_code, 99), r.uscc))],
               widths=(28, 22, 30, 10, 24, 17, 28, 10), notes=notes)
    people = on_teams or pool
    book.sheet("检查人员", f"{plan.name} 检查人员（{'检查组' if on_teams else '在岗执法人员'}）",
               ("部门", "姓名", "执法证号", "手机"),
               [(names.get(r.department_code, r.department_code), r.name, r.certificate_no, r.mobile or "")
                for r in sorted(people, key=lambda r: (order.get(r.department_code, 99), r.certificate_no))],
               widths=(28, 12, 16, 14), notes=notes)
    book.save(Path(path))
    return summary


# --- the campaign summary --------------------------------------------------------------


def progress_by_day(conn: Connection, plan: CampaignPlan, until: datetime) -> list[tuple]:
    """Per day: how many enterprises had reached each state by its end (for the progress chart)."""
    i = orm.InspectionRow
    columns = [i.sampled_at, i.confirmed_at, i.assigned_at, i.inspected_at, i.reported_at, i.published_at,
               i.withdrawn_at]
    stamps = conn.execute(select(*columns).where(i.campaign_code == plan.code)).all()
    days = sorted({s.astimezone(plan.tz).date() for row in stamps for s in row if s is not None})
    if not days:
        return []
    last = max(days[-1], until.astimezone(plan.tz).date())
    rows = []
    day = days[0]
    while day <= last:
        rows.append((day.isoformat(), *(sum(1 for row in stamps if row[n] is not None
                                            and row[n].astimezone(plan.tz).date() <= day)
                                        for n in range(len(columns)))))
        day += timedelta(days=1)
    return rows


def write_summary_report(engine: Engine, plan: CampaignPlan, path: Path, *, now: datetime,
                         calendar: WorkdayCalendar) -> None:
    """``ssj report summary``: the numbers, progress over time, the departments' summaries, the plan's findings."""
    with engine.connect() as conn:
        rows = statistics(conn, plan)
        progress = progress_by_day(conn, plan, now)
        note = redraw_note(conn, plan)
        with Session(bind=conn) as session:
            counts = state_counts(session, plan.code)
    local = now.astimezone(plan.tz)
    findings = check_plan(plan, calendar)
    notes = [f"{plan.office}  {plan.document_no}  统计时间：{local:%Y-%m-%d %H:%M}", *([note] if note else [])]
    book = ReportBook()
    figures = [(label, value) for (_, label), value in zip(COLUMNS, rows[0].cells())]
    figures += [(f"检查对象：{STATE_LABELS[state]}（户）", n) for state, n in counts.items()]
    book.sheet("概况", f"{plan.name} 工作总结", ("指标", "数值"), figures, widths=(34, 12), notes=notes)
    table = book.sheet("进度", f"{plan.name} 进度（各状态累计户数）",
                       ("日期", *(f"{STATE_LABELS[s]}" for s in ("sampled", "confirmed", "assigned", "inspected",
                                                                "reported", "published", "withdrawn"))),
                       progress, widths=(12, 10, 10, 10, 10, 10, 10, 10), notes=notes)
    book.line_chart(table, "各状态累计户数", [2, 3, 4, 5, 6, 7], "J3", "户")
    names = dict(_department_names(engine))
    with engine.connect() as conn:
        doc = orm.SubmittedDocument
        latest = {r.department_code: r for r in conn.execute(
            select(doc.department_code, doc.filename, doc.submitted_at, doc.highlights, doc.practices, doc.problems)
            .where(doc.campaign_code == plan.code, doc.kind == "summary").order_by(doc.submitted_at))}
    book.sheet("部门总结", f"{plan.name} 各部门总结（亮点、经验做法、存在问题）", ("部门", "报送情况", "亮点", "经验做法",
                                                                          "存在问题"),
               [(names.get(d.code, d.code),
                 f"{latest[d.code].submitted_at.astimezone(plan.tz):%Y-%m-%d} 报送 {latest[d.code].filename}"
                 if d.code in latest else "未报送",
                 *((getattr(latest[d.code], f) or "") if d.code in latest else "" for f in
                   ("highlights", "practices", "problems")))
                for d in plan.departments],
               widths=(30, 24, 40, 40, 40), notes=notes)
    book.sheet("方案检查", f"{plan.name} 方案检查结果", ("级别", "项目", "说明"),
               [(f.severity, f.subject, f.message) for f in findings] or [("", "", "未发现问题")],
               widths=(8, 26, 90), notes=notes)
    book.save(Path(path))


def _department_names(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return conn.execute(select(orm.Department.code, orm.Department.name)).all()


@dataclass(frozen=True)
class DailyReport:
    path: Path
    overdue: int
    queued: int


def prepare_daily_overdue_report(engine: Engine, plan: CampaignPlan, out_dir: Path, *, now: datetime,
                                 calendar: WorkdayCalendar) -> DailyReport | None:
    """The morning report to the office: on working days only (None otherwise) — the calendar decides, a cron
    cannot know 调休 — written as ``逾期部门报告_<date>.xlsx`` and queued once a day with the file attached."""
    day = now.astimezone(plan.tz).date()
    if not calendar.is_workday(day):
        return None
    path = Path(out_dir).resolve() / f"逾期部门报告_{day.isoformat()}.xlsx"
    items = write_overdue_report(engine, plan, path, now=now, calendar=calendar)
    with engine.begin() as conn:
        queued = queue_overdue_report(conn, plan, path, items, now=now)
    return DailyReport(path, len(items), queued)


def queue_overdue_report(conn: Connection, plan: CampaignPlan, path: Path, items: list[Overdue], *,
                         now: datetime) -> int:
    """The daily report to the office, queued once per day (the key holds the date), the XLSX attached."""
    day = now.astimezone(plan.tz).date().isoformat()
    per: dict[str, dict] = {}
    for x in items:
        row = per.setdefault(x.department, {"name": x.department, "tasks": 0, "worst": 0})
        row["tasks"] += 1
        row["worst"] = max(row["worst"], x.workdays)
    context = {"campaign_name": plan.name, "campaign_code": plan.code, "day": day, "count": len(items),
               "at": f"{now.astimezone(plan.tz):%Y-%m-%d %H:%M}", "attachment_name": path.name,
               "departments": sorted(per.values(), key=lambda r: -r["tasks"]), "attachments": [str(path)]}
    return queue(conn, plan, key=f"overdue-report|{plan.code}|{day}", recipients=plan.office_mailboxes, kind="report",
                 template="overdue_report", context=context, now=now)
