"""What the office sees on the Prefect dashboard for a campaign: enough to run it day to day."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.campaign_file import DEADLINE_LABELS
from workflow.inspection import PUBLISHED, REPORTED, STATE_LABELS, STATES, WITHDRAWN
from workflow.plan_checker import check_plan
from workflow.services.campaigns import redraw_note
from workflow.services.mail_health import mail_health
from workflow.services.outbox import problem_summary
from workflow.services.overdue import by_department, overdue_tasks


@dataclass(frozen=True)
class Board:
    title: str
    progress_table: list[dict]  # per department: enterprises per state
    overdue_table: list[dict]  # per department: overdue tasks, enterprises, worst, who
    progress: float  # percent of live enterprises back-filled or published
    markdown: str
    mail_problems: str = ""  # one line when messages wait for the office (退信, 无法生成, 投递不明)


def dashboard(uow, *, mail: bool = True) -> Board:
    """``mail=False``: the campaign is served with ``--no-mail``; every card says so."""
    with uow:
        plan = uow.plan
        names = uow.directory.department_names()
        per = uow.reports.department_states(plan.code)
        totals = uow.campaigns.state_counts(plan.code)
        overdue = overdue_tasks(uow)
        note = redraw_note(uow)
        findings = check_plan(plan, uow.calendar)
    health = mail_health(uow, enabled=mail)
    mail_line = problem_summary({"counts": health.problems})
    counts: dict[str, dict[str, int]] = {}
    for dept, state, n in per:
        counts.setdefault(dept, {})[state] = n
    progress_table = [{"部门": names.get(dep.code, dep.code),
                       **{STATE_LABELS[s]: counts.get(dep.code, {}).get(s, 0) for s in STATES}}
                      for dep in plan.departments]
    overdue_table = [{"部门": r["name"], "逾期事项（项）": r["tasks"], "涉及企业": r["enterprises"],
                      "最长逾期（工作日）": r["worst"], "责任人": r["people"]} for r in by_department(overdue)]
    live = sum(n for s, n in totals.items() if s != WITHDRAWN)
    done = totals.get(REPORTED, 0) + totals.get(PUBLISHED, 0)
    progress = round(100.0 * done / live, 1) if live else 0.0
    local = uow.now.astimezone(plan.tz)
    lines = [f"# {plan.name}", "", f"{plan.document_no} · {plan.office} · 更新于 {local:%Y-%m-%d %H:%M}（北京时间）", ""]
    if note:
        lines += [f"**{note}**", ""]
    lines += ["## 检查对象", "", "| 状态 | 户数 |", "|---|---|"]
    lines += [f"| {STATE_LABELS[s]} | {totals.get(s, 0)} |" for s in STATES]
    lines += ["", f"## 逾期事项：{len(overdue)} 项", ""]
    lines += [f"- {r['部门']}：{r['逾期事项（项）']} 项，最长逾期 {r['最长逾期（工作日）']} 个工作日" for r in overdue_table] or ["- 无"]
    lines += ["", "## 邮件", ""]
    lines += health.lines(plan.tz)
    lines += ["", "## 期限", ""]
    lines += [f"- {DEADLINE_LABELS.get(name, name)}：{spec.describe()}" for name, spec in plan.deadlines.items()]
    lines += ["", "## 方案检查", ""] + ([f"- {f.severity} {f.subject}：{f.message}" for f in findings] or ["- 未发现问题"])
    return Board(plan.name, progress_table, overdue_table, progress, "\n".join(lines) + "\n", mail_line)
