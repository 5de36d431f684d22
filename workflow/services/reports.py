"""Reports for the leading group — the statistics table, the confirmation report, the campaign summary.

Each reads in the unit of work's transaction and writes its file after it.
(The overdue-department report, which the tick mails each working day, is ``overdue``.)
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from workflow.campaign_counts import reached_by_day, state_counts, statistics_rows, total_row
from workflow.campaign_plan import DEADLINE_LABELS
from workflow.deadline_words import day_words, deadline_words
from workflow.files.report_books import ReportBook
from workflow.files.statistics_table import statistics_title, write_statistics_csv, write_statistics_xlsx
from workflow.inspection import STATE_LABELS, STATES
from workflow.plan_checker import check_plan
from workflow.results import ABNORMAL_CODES, HANDLING, PROBLEM_CODES, enterprise_codes, wording
from workflow.services.campaigns import redraw_note, simulation_mark
from workflow.statistics import COLUMNS, StatsRow


def statistics(uow) -> list[StatsRow]:
    """The seed's statistics table, from the campaign's counts (``workflow.campaign_counts``)."""
    names = uow.directory.department_names()
    return statistics_rows(uow.reports.counts(uow.plan.code),
                           [(d.code, names.get(d.code, d.code)) for d in uow.plan.departments],
                           uow.reports.item_contents())


def enterprise_results(uow) -> list[tuple]:
    """One row per drawn enterprise: state, inspecting departments, visit date, results, handling."""
    plan = uow.plan
    departments = uow.reports.inspecting_department_names(plan)
    results = uow.reports.result_summary(plan.code, PROBLEM_CODES)
    handling = uow.reports.handling(plan.code)
    rows = []
    for iid, uscc, name, state, visit in uow.reports.enterprises(plan.code):
        codes, problems = results.get(iid, (set(), 0))
        union = enterprise_codes([codes])
        rows.append((uscc, name, STATE_LABELS[state], "、".join(departments.get(iid, [])),
                     visit.isoformat() if visit else "", "；".join(wording(union)),
                     problems, "是" if union & ABNORMAL_CODES else "",
                     "；".join(HANDLING[h] for h in sorted(handling.get(iid, ())))))
    return rows


def write_statistics(uow, path: Path, *, fmt: str = "xlsx") -> list[StatsRow]:
    """``ssj report stats``: the seed's attachment as XLSX (with a per-enterprise sheet) or CSV."""
    with uow:
        plan = uow.plan
        rows = statistics(uow)
        detail = enterprise_results(uow) if fmt == "xlsx" else []
        note = redraw_note(uow)
        mark = "【模拟】" if uow.simulation else ""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_statistics_csv(rows, path)
    else:
        write_statistics_xlsx(f"{mark}{statistics_title(plan.name)}", plan.office,
                              f"{uow.now.astimezone(plan.tz):%Y年%m月%d日}",
                              rows, detail, path, note=note)
    return rows


def _notes(uow, note: str, *, head: str = "") -> list[str]:
    """The lines under every report's title: when it was made (Beijing time), and a re-drawn campaign's mark."""
    local = uow.now.astimezone(uow.plan.tz)
    return [f"{simulation_mark(uow)}{head}统计时间：{local:%Y-%m-%d %H:%M}（北京时间）", *([note] if note else [])]


def names_by_email(uow) -> dict[str, str]:
    """Who an address belongs to, as the directories name them (officers, department people, the office's staff):
    reports print the person, not the mailbox."""
    named: dict[str, str] = {}
    for officer in uow.directory.officers().values():
        if officer.email and officer.name:
            named[officer.email.lower()] = officer.name
    for dept in uow.directory.departments().values():
        for role in ("admin", "leader", "contact"):
            email, name = getattr(dept, f"{role}_email", None), getattr(dept, f"{role}_name", None)
            if email and name:
                named[email.lower()] = name
    for member in uow.staff.members():
        if member.email and member.name:
            named[member.email.lower()] = member.name
    if uow.plan.contact.email and uow.plan.contact.name:
        named[uow.plan.contact.email.lower()] = uow.plan.contact.name
    return named


def write_confirmation_report(uow, path: Path) -> dict[str, dict]:
    """``ssj report confirmation``: each department's answers, and its officers with their mobiles (seed)."""
    with uow:
        plan = uow.plan
        names = uow.directory.department_names()
        on_teams = uow.teams.people(plan.code)
        pool = uow.directory.roster(plan.department_codes)
        notes = _notes(uow, redraw_note(uow))
        summary, detail = _answers(uow, names, names_by_email(uow))
    order = {x.code: n for n, x in enumerate(plan.departments)}
    book = ReportBook()
    table = book.sheet("汇总", f"{plan.name} 比对确认情况", ("部门", "派发（户）", "检查（户）", "不检查（户）", "未答复（户）",
                                                       "办公室代为确认（户）"),
                       [(dept, s["dispatched"], s["inspect"], s["decline"], s["waiting"], s["on_behalf"])
                        for dept, s in summary.items()], notes=notes)
    book.bar_chart(table, "各部门比对确认", [3, 4, 5], "户")
    book.sheet("比对确认明细", f"{plan.name} 比对确认明细", ("部门", "统一社会信用代码", "企业名称", "是否检查", "不检查理由",
                                                         "确认时间", "确认人", "代为确认"), detail, notes=notes,
               landscape=True)
    people = on_teams or pool
    book.sheet("检查人员", f"{plan.name} 检查人员（{'检查组' if on_teams else '在岗执法人员'}）",
               ("部门", "姓名", "执法证号", "手机"),
               [(names.get(r.department_code, r.department_code), r.name, r.certificate_no, r.mobile or "")
                for r in sorted(people, key=lambda r: (order.get(r.department_code, 99), r.certificate_no))],
               notes=notes)
    book.save(Path(path))
    return summary


def _answers(uow, names: dict[str, str], people_named: dict[str, str]) -> tuple[dict[str, dict], list[tuple]]:
    """Each department's counts, and the detail sheet's rows in the plan's department order, from one streamed
    read of the answers: only the rows as the sheet shows them are kept (a province's are 1,750,000)."""
    plan = uow.plan
    empty = {"dispatched": 0, "inspect": 0, "decline": 0, "waiting": 0, "on_behalf": 0}
    summary: dict[str, dict] = {names.get(x.code, x.code): dict(empty) for x in plan.departments}
    detail = []
    for r in uow.reports.answers(plan.code, [x.code for x in plan.departments]):
        department = names.get(r.department_code, r.department_code)
        s = summary.setdefault(department, dict(empty))
        s["dispatched"] += 1
        s["inspect" if r.inspects else "decline" if r.inspects is False else "waiting"] += 1
        s["on_behalf"] += bool(r.on_behalf)
        detail.append((department, r.uscc, r.name, "是" if r.inspects else "否" if r.inspects is False else "未答复",
                       r.decline_reason or "",
                       f"{r.answered_at.astimezone(plan.tz):%Y-%m-%d %H:%M}" if r.answered_at else "",
                       people_named.get((r.answered_by or "").lower(), r.answered_by or ""),
                       "是" if r.on_behalf else ""))
    return summary, detail


def progress_by_day(uow, counts=None) -> list[tuple]:
    """Per day: how many enterprises had reached each state by its end (for the progress chart), summed up from the
    kept count of each state reached on each day (``campaign_counts``)."""
    plan = uow.plan
    reached = reached_by_day(counts if counts is not None else uow.reports.counts(plan.code))
    if not reached:
        return []
    days = sorted({day for _, day in reached})
    last = max(days[-1], uow.now.astimezone(plan.tz).date())
    rows = []
    totals = [0] * len(STATES)
    day = days[0]
    while day <= last:
        for n in range(len(STATES)):
            totals[n] += reached.get((n, day), 0)
        rows.append((day.isoformat(), *totals))
        day += timedelta(days=1)
    return rows


def subject_words(plan, subject: str) -> tuple[str, str]:
    """A finding's subject as the leading group reads it: the deadline's Chinese name and its date in the notice's
    words (the campaign file's key, e.g. ``deadlines.summary``, is for the file's author, not for paper)."""
    section, _, name = subject.partition(".")
    spec = plan.deadlines.get(name) if section == "deadlines" else None
    if spec is None:
        return subject, ""
    label = DEADLINE_LABELS.get(name, name)
    if spec.form == "on":
        due = datetime.combine(spec.on, spec.cutoff or time(0), plan.tz) + (timedelta(0) if spec.cutoff else
                                                                            timedelta(days=1))
        return label, deadline_words(due, plan.tz)
    if spec.form == "at":
        return label, deadline_words(spec.at.astimezone(plan.tz), plan.tz)
    if spec.form == "window":
        return label, f"{day_words(spec.start)}至{day_words(spec.end)}"
    return label, spec.describe()


def write_summary_report(uow, path: Path) -> None:
    """``ssj report summary``: the numbers, progress over time, the departments' summaries, the plan's findings."""
    with uow:
        plan = uow.plan
        counted = uow.reports.counts(plan.code)
        progress = progress_by_day(uow, counted)
        total = total_row(counted, uow.reports.item_contents())
        counts = state_counts(counted)
        names = uow.directory.department_names()
        latest = uow.documents.latest(plan.code, "summary")
        notes = _notes(uow, redraw_note(uow), head=f"{plan.office}  {plan.document_no}  ")
        findings = check_plan(plan, uow.calendar)
    book = ReportBook()
    figures = [(label, value) for (_, label), value in zip(COLUMNS, total.cells())]
    figures += [(f"检查对象：{STATE_LABELS[state]}（户）", n) for state, n in counts.items()]
    book.sheet("概况", f"{plan.name} 工作总结", ("指标", "数值"), figures, notes=notes)
    table = book.sheet("进度", f"{plan.name} 进度（各状态累计户数）", ("日期", *(STATE_LABELS[s] for s in STATES)),
                       progress, notes=notes)
    book.line_chart(table, "各状态累计户数", [2, 3, 4, 5, 6, 7], "户")
    book.sheet("部门总结", f"{plan.name} 各部门总结（亮点、经验做法、存在问题）", ("部门", "报送情况", "亮点", "经验做法",
                                                                          "存在问题"),
               [(names.get(d.code, d.code),
                 f"{latest[d.code].submitted_at.astimezone(plan.tz):%Y-%m-%d} 报送 {latest[d.code].filename}"
                 if d.code in latest else "未报送",
                 *((getattr(latest[d.code], f) or "") if d.code in latest else "" for f in
                   ("highlights", "practices", "problems")))
                for d in plan.departments], notes=notes, landscape=True)
    book.sheet("方案检查", f"{plan.name} 方案检查结果", ("级别", "项目", "期限", "说明"),
               [(f.severity, *subject_words(plan, f.subject), f.message) for f in findings] or [("", "", "", "未发现问题")],
               notes=notes, landscape=True, most=70)
    book.save(Path(path))
