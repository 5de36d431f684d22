"""What the office sees on the Prefect dashboard for a campaign: enough to run it day to day.

The summary answers, in this order, what an office clerk asks each morning: where the
campaign stands, what is late and who to ring about it, what the office already chases
itself, what falls due this week, whether mail leaves, and whether the plan holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.campaign_counts import department_states, state_counts
from workflow.deadline_words import deadline_words, instant_words
from workflow.inspection import PUBLISHED, REPORTED, STATE_LABELS, STATES, WITHDRAWN
from workflow.plan_checker import check_plan
from workflow.services.campaigns import report_note
from workflow.services.mail_health import MAIL_OFF, mail_health
from workflow.services.mailbox_board import mailbox_lines
from workflow.services.outbox import problem_summary
from workflow.services.overdue import Owners, due_soon, escalated_to_office, joint_words, overdue_summary
from workflow.tasks import TASK_LABELS

NO_MAIL = MAIL_OFF
LISTED = 50  # rows of a list on the summary card; the rest are in the overdue report
BAR = 20  # characters of the text progress bar


@dataclass(frozen=True)
class Board:
    title: str
    progress_table: list[dict]  # per department: enterprises per state
    overdue_table: list[dict]  # per department: overdue tasks, enterprises, worst, who
    progress: float  # percent of live enterprises back-filled or published
    markdown: str
    mail_problems: str = ""  # one line when messages wait for the office (退信, 无法生成, 投递不明)
    overdue: int = 0  # distinct overdue tasks
    escalated: int = 0  # open tasks whose notices reached the office
    due_soon: int = 0  # tasks falling due in the next five working days
    mail: bool = True  # False: served with --no-mail (every card says so)

    def described(self, what: str) -> str:
        """A card's description: what it is first (the UI's list cuts the rest), then the campaign."""
        return f"{what} · {self.title}" + ("" if self.mail else f" · {NO_MAIL}")


def text_bar(percent: float, width: int = BAR) -> str:
    filled = round(width * percent / 100)
    return "█" * filled + "░" * (width - filled)


def _cell(text: str) -> str:
    """A value inside a markdown table cell."""
    return str(text).replace("|", "｜").replace("\n", " ")


def _finding(f) -> str:
    return f"- {f.severity} {f.topic}：{f.message}"


def _owners(x) -> str:
    """Who owes an overdue task and whom to ring: per department, its people with their phones."""
    return "；".join(f"{o.department}：{o.people}" if o.people else o.department for o in x.owners)


def _more(lines: list[str], total: int, where: str) -> list[str]:
    return lines + (["", f"另有 {total - LISTED} 项未列出，见{where}。"] if total > LISTED else [])


def _escalation_groups(escalated, tz) -> list[tuple[str, str, str, str, int]]:
    """The escalated tasks by (since, what, due): the enterprises concerned, or the departments and their counts."""
    out = []
    for e in sorted(escalated, key=lambda e: (e.since is None, e.since or e.due, e.kind, e.due)):
        if e.enterprises:
            who = "、".join(e.names) + (f" 等 {e.enterprises} 户" if e.enterprises > len(e.names) else "")
        else:
            who = "、".join(d if {n for _, n in e.departments} == {1} else f"{d} {n} 项" for d, n in e.departments)
        out.append((f"{instant_words(e.since, tz)}起" if e.since else "—", TASK_LABELS.get(e.kind, e.kind),
                    deadline_words(e.due, tz), who, e.tasks))
    return out


def dashboard(uow, *, mail: bool = True) -> Board:
    """``mail=False``: the campaign is served with ``--no-mail``; every card says so."""
    with uow:
        plan = uow.plan
        names = uow.directory.department_names()
        counts = uow.reports.counts(plan.code)
        owners = Owners(uow)  # who owes what: looked up once for the three lists
        overdue = overdue_summary(uow, owners, shown=LISTED)
        escalated_total, escalated = escalated_to_office(uow, owners)
        period, soon, soon_total = due_soon(uow, owners=owners)
        note = report_note(uow)
        findings = check_plan(plan, uow.calendar)
    health = mail_health(uow, enabled=mail)
    mail_line = problem_summary({"counts": health.problems})
    tz = plan.tz
    totals = state_counts(counts)
    per: dict[str, dict[str, int]] = {}
    for dept, state, n in department_states(counts):
        per.setdefault(dept, {})[state] = n
    progress_table = [{"部门": names.get(dep.code, dep.code),
                       **{STATE_LABELS[s]: per.get(dep.code, {}).get(s, 0) for s in STATES}}
                      for dep in plan.departments]
    departments = overdue.departments
    overdue_table = [{"部门": r["name"], "逾期事项（项）": r["tasks"], "涉及企业": r["enterprises"],
                      "最长逾期（工作日）": r["worst"], "责任人及联系电话": r["people"]} for r in departments]
    live = sum(n for s, n in totals.items() if s != WITHDRAWN)
    done = totals.get(REPORTED, 0) + totals.get(PUBLISHED, 0)
    progress = round(100.0 * done / live, 1) if live else 0.0

    lines = [f"> **{NO_MAIL}**（见下方“邮件”）", ""] if not mail else []
    lines += [f"# {plan.name}", "", f"{plan.document_no} · {plan.office} · 更新于{instant_words(uow.now, tz)}", ""]
    if note:
        lines += [f"**{note}**", ""]
    lines += [f"`{text_bar(progress)}` **{progress:g}%**　已回填或已公示 {done} 户 / 应检查 {live} 户", ""]
    lines += [f"逾期事项 **{overdue.total}** 项 · 已督办至领导小组办公室 **{escalated_total}** 项 · "
              f"{period}到期 **{soon_total}** 项", ""]

    lines += ["## 检查对象", "", "| 状态 | 户数 |", "|---|---:|"]
    lines += [f"| {STATE_LABELS[s]} | {totals.get(s, 0)} |" for s in STATES]

    lines += ["", f"## 逾期事项：{overdue.total} 项", ""]
    if overdue.total:
        lines += [joint_words(overdue.total, overdue.joint), ""]
        lines += [f"- {r['name']}：{r['tasks']} 项，涉及企业 {r['enterprises']} 户，最长逾期 {r['worst']} 个工作日"
                  for r in departments]
        lines += ["", "逐项（逾期最久的在前）：", ""]
        rows = sorted(overdue.first, key=lambda x: (-x.workdays, x.due, x.task_id))
        lines += _more([f"- **{x.enterprise or '本抽查任务'}** · {TASK_LABELS.get(x.kind, x.kind)} · 期限 "
                        f"{deadline_words(x.due, tz, provisional=x.provisional)} · 逾期 **{x.workdays}** 个工作日\n"
                        f"  - 负责：{_owners(x)}" for x in rows[:LISTED]],
                       overdue.total, "逾期部门报告（ssj report overdue）")
    else:
        lines += ["无逾期事项。"]

    lines += ["", f"## 已督办至领导小组办公室：{escalated_total} 项", ""]
    if escalated:
        lines += ["通知已逐级发到领导小组办公室、仍未完成的事项（办公室直接督办）：", ""]
        groups = _escalation_groups(escalated, tz)
        lines += _more([f"- {since} · **{what}** · 期限 {due} · {n} 项：{who}" for since, what, due, who, n in
                        groups[:LISTED]], len(groups), "逾期部门报告的“已通知到”一列")
    else:
        lines += ["无。"]

    lines += ["", f"## {period}到期", ""]
    if soon:
        lines += [f"共 {soon_total} 项（联合检查的回填在每个负责部门各列一次）：" if soon_total < sum(d.count for d in soon)
                  else f"共 {soon_total} 项：", "", "| 期限 | 部门 | 事项 | 项数 |", "|---|---|---|---:|"]
        lines += _more([f"| {d.due} | {_cell(d.department)} | {d.kind} | {d.count} |" for d in soon[:LISTED]],
                       len(soon), "ssj campaign status")
    else:
        lines += ["无到期事项。"]

    lines += ["", "## 邮件", ""]
    lines += health.lines(tz)
    if box := mailbox_lines(uow, tz):
        lines += ["", "## 办公室邮箱", "", *box]
    lines += ["", "## 方案检查", ""] + ([_finding(f) for f in findings] or ["- 未发现问题"])
    return Board(plan.name, progress_table, overdue_table, progress, "\n".join(lines) + "\n", mail_line,
                 overdue.total, escalated_total, soon_total, mail)
