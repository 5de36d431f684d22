"""What the office sees on the Prefect dashboard for a campaign: enough to run it day to day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from calendars import WorkdayCalendar
from workflow.campaign_file import DEADLINE_LABELS, CampaignPlan
from workflow.inspection import STATE_LABELS, STATES
from workflow.persistence import orm
from workflow.plan_checker import check_plan
from workflow.services.campaigns import redraw_note
from workflow.services.reports import overdue_tasks


@dataclass(frozen=True)
class Board:
    title: str
    progress_table: list[dict]  # per department: enterprises per state
    overdue_table: list[dict]  # per department: overdue tasks, enterprises, worst, who
    progress: float  # percent of live enterprises back-filled or published
    markdown: str


def dashboard(engine: Engine, plan: CampaignPlan, *, now: datetime, calendar: WorkdayCalendar) -> Board:
    i, a, d = orm.InspectionRow, orm.InspectionDepartment, orm.Department
    with engine.connect() as conn:
        names = dict(conn.execute(select(d.code, d.name)).all())
        per = conn.execute(select(a.department_code, i.state, func.count()).join(i, i.id == a.inspection_id)
                           .where(i.campaign_code == plan.code, a.inspects.isnot(False))
                           .group_by(a.department_code, i.state)).all()
        totals = dict(conn.execute(select(i.state, func.count()).where(i.campaign_code == plan.code)
                                   .group_by(i.state)).all())
        overdue = overdue_tasks(conn, plan, now, calendar)
        note = redraw_note(conn, plan)
    counts: dict[str, dict[str, int]] = {}
    for dept, state, n in per:
        counts.setdefault(dept, {})[state] = n
    progress_table = [{"部门": names.get(dep.code, dep.code),
                       **{STATE_LABELS[s]: counts.get(dep.code, {}).get(s, 0) for s in STATES}}
                      for dep in plan.departments]
    by_dept: dict[str, dict] = {}
    for x in overdue:
        row = by_dept.setdefault(x.department, {"部门": x.department, "逾期事项（项）": 0, "涉及企业": set(),
                                                "最长逾期（工作日）": 0, "责任人": set()})
        row["逾期事项（项）"] += 1
        row["最长逾期（工作日）"] = max(row["最长逾期（工作日）"], x.workdays)
        if x.uscc:
            row["涉及企业"].add(x.uscc)
        row["责任人"].add(x.responsible)
    overdue_table = [{**row, "涉及企业": len(row["涉及企业"]), "责任人": "；".join(sorted(p for p in row["责任人"] if p))}
                     for row in sorted(by_dept.values(), key=lambda r: -r["逾期事项（项）"])]
    live = sum(n for s, n in totals.items() if s != "withdrawn")
    done = totals.get("reported", 0) + totals.get("published", 0)
    progress = round(100.0 * done / live, 1) if live else 0.0
    local = now.astimezone(plan.tz)
    lines = [f"# {plan.name}", "", f"{plan.document_no} · {plan.office} · 更新于 {local:%Y-%m-%d %H:%M}（北京时间）", ""]
    if note:
        lines += [f"**{note}**", ""]
    lines += ["## 检查对象", "", "| 状态 | 户数 |", "|---|---|"]
    lines += [f"| {STATE_LABELS[s]} | {totals.get(s, 0)} |" for s in STATES]
    lines += ["", f"## 逾期事项：{len(overdue)} 项", ""]
    lines += [f"- {r['部门']}：{r['逾期事项（项）']} 项，最长逾期 {r['最长逾期（工作日）']} 个工作日" for r in overdue_table] or ["- 无"]
    lines += ["", "## 期限", ""]
    lines += [f"- {DEADLINE_LABELS.get(name, name)}：{spec.describe()}" for name, spec in plan.deadlines.items()]
    findings = check_plan(plan, calendar)
    lines += ["", "## 方案检查", ""] + ([f"- {f.severity} {f.subject}：{f.message}" for f in findings] or ["- 未发现问题"])
    return Board(plan.name, progress_table, overdue_table, progress, "\n".join(lines) + "\n")
