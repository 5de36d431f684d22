"""Overdue work: who owes what, how many working days late — the report, the dashboard and the daily mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from workflow.files.report_books import ReportBook
from workflow.mail import mails
from workflow.services.campaigns import redraw_note
from workflow.services.outbox import mail_problems, problem_summary
from workflow.tasks import TASK_LABELS

OFFICE = "领导小组办公室"


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


def overdue_tasks(uow) -> list[Overdue]:
    """Every open task whose due instant has passed, with the department that owes it and who is responsible."""
    plan, calendar = uow.plan, uow.calendar
    departments = uow.directory.departments()
    officers = uow.directory.officers()
    teams = uow.teams.counted(campaign_code=plan.code)
    today = uow.now.astimezone(plan.tz).date()
    out = []

    def contact(code):
        dep = departments.get(code)
        return f"{dep.contact_name or ''}（{dep.contact_email or '无邮箱'}）" if dep else ""

    for r in uow.reports.overdue(plan.code, uow.now):
        last_day = (r.due_at.astimezone(plan.tz) - timedelta(microseconds=1)).date()
        late = calendar.workdays_between(last_day, today)
        owners: list[tuple[str, str]]
        if r.department_code:
            owners = [(r.department_code, contact(r.department_code))]
        elif r.certificate_no:
            officer = officers.get(r.certificate_no)
            owners = [(officer.department_code if officer else "",
                       f"{officer.name if officer else ''}（{r.certificate_no}）")]
        elif r.kind == "backfill":
            by_dept: dict[str, list[str]] = {}
            for cert, dept in teams.get(r.inspection_id, []):
                by_dept.setdefault(dept, []).append(f"{officers[cert].name}（{cert}）")
            owners = [(dept, "、".join(names)) for dept, names in sorted(by_dept.items())] or [("", "")]
        else:
            owners = [("", "、".join(plan.office_staff))]
        for dept, who in owners:
            name = departments[dept].name if dept in departments else OFFICE
            out.append(Overdue(name, r.kind, r.uscc or "", r.name or "", r.due_at, late, who, r.escalation_level,
                               bool(r.provisional)))
    return out


def by_department(items: list[Overdue]) -> list[dict]:
    """Per department, most overdue first: overdue tasks, enterprises concerned, the worst lateness, who is responsible."""
    per: dict[str, dict] = {}
    for x in items:
        row = per.setdefault(x.department, {"name": x.department, "tasks": 0, "enterprises": set(), "worst": 0,
                                            "people": set()})
        row["tasks"] += 1
        row["worst"] = max(row["worst"], x.workdays)
        if x.uscc:
            row["enterprises"].add(x.uscc)
        row["people"].add(x.responsible)
    return [{**row, "enterprises": len(row["enterprises"]), "people": "；".join(sorted(p for p in row["people"] if p))}
            for row in sorted(per.values(), key=lambda r: -r["tasks"])]


def write_overdue_report(uow, path: Path) -> list[Overdue]:
    """``ssj report overdue``: overdue work per department (a chart), then every overdue task."""
    with uow:
        plan = uow.plan
        items = overdue_tasks(uow)
        note = redraw_note(uow)
    local = uow.now.astimezone(plan.tz)
    book = ReportBook()
    notes = [f"统计时间：{local:%Y-%m-%d %H:%M}（北京时间）", *([note] if note else [])]
    table = book.sheet("逾期部门", f"{plan.name} 逾期部门情况", ("部门", "逾期事项（项）", "涉及企业（户）", "最长逾期（工作日）",
                                                             "责任人"),
                       [(r["name"], r["tasks"], r["enterprises"], r["worst"], r["people"]) for r in by_department(items)],
                       widths=(30, 14, 14, 16, 60), notes=notes)
    book.bar_chart(table, "各部门逾期事项", [2, 3], "G3", "项 / 户")
    book.sheet("逾期明细", f"{plan.name} 逾期事项明细", ("部门", "事项", "统一社会信用代码", "企业名称", "截止时间",
                                                     "逾期（工作日）", "责任人", "已升级", "暂定期限"),
               [(x.department, TASK_LABELS.get(x.kind, x.kind), x.uscc, x.enterprise,
                 f"{x.due.astimezone(plan.tz):%Y-%m-%d %H:%M}", x.workdays, x.responsible, x.level,
                 "暂定" if x.provisional else "") for x in items],
               widths=(28, 22, 22, 30, 17, 12, 40, 8, 8), notes=notes)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    book.save(Path(path))
    return items


@dataclass(frozen=True)
class DailyReport:
    day: date  # the campaign's day the report is for
    path: Path | None  # None: not a working day, nothing written or sent
    overdue: int = 0
    queued: int = 0


def prepare_daily_overdue_report(uow, out_dir: Path) -> DailyReport:
    """The morning report to the office: on working days only — the calendar decides, a cron cannot know 调休 —
    written as ``逾期部门报告_<date>.xlsx`` and queued once a day with the file attached."""
    with uow:
        plan = uow.plan
        day = uow.now.astimezone(plan.tz).date()
        if not uow.calendar.is_workday(day):
            return DailyReport(day, None)
    path = Path(out_dir).resolve() / f"逾期部门报告_{day.isoformat()}.xlsx"
    items = write_overdue_report(uow, path)
    context = {"campaign_name": plan.name, "campaign_code": plan.code, "day": day.isoformat(), "count": len(items),
               "at": f"{uow.now.astimezone(plan.tz):%Y-%m-%d %H:%M}", "attachment_name": path.name,
               "departments": [{"name": r["name"], "tasks": r["tasks"], "worst": r["worst"]}
                               for r in by_department(items)], "attachments": [str(path)],
               "mail_problems": problem_summary(mail_problems(uow))}
    with uow:
        queued = uow.queue(mails(f"overdue-report|{plan.code}|{day.isoformat()}", plan.office_mailboxes, kind="report",
                                 template="overdue_report", context=context))
    return DailyReport(day, path, len(items), queued)
