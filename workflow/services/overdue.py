"""Open work: who owes what, how many working days late, what falls due next, what the office chases itself —
the overdue report, the dashboard and the daily mail.

Each task is counted once. A joint back-fill task is owed by every department on the
enterprise's team: it appears once in every list of tasks, and once in each of those
departments' counts (so the departments' counts may add up to more than the total).
The responsible people are named with a number to ring: an officer's mobile, a
department contact's phone, the office's contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from calendars import CalendarCoverageError
from workflow.deadline_words import day_words, deadline_words, instant_words
from workflow.files.report_books import ReportBook
from workflow.letter import group_greeting, signature
from workflow.mail import mails
from workflow.notices import LADDER_LABELS, schedule, workdays_overdue
from workflow.services.mailbox_board import waiting_lines
from workflow.services.campaigns import redraw_note, simulation_mark
from workflow.services.outbox import mail_problems, problem_summary
from workflow.services.people import People
from workflow.tasks import TASK_LABELS

OFFICE = "领导小组办公室"
SOON_WORKDAYS = 5  # the board's "what falls due next" looks this many working days ahead


@dataclass(frozen=True)
class Owner:
    """A department that owes a task, and who answers for it there (names with their mobiles)."""

    department: str  # the department's name, or 领导小组办公室
    people: str
    code: str = ""  # the department's code ("" for the office)


@dataclass(frozen=True)
class Overdue:
    """One open task (a joint back-fill task owed by two departments is still one task)."""

    task_id: int
    kind: str
    uscc: str
    enterprise: str
    due: datetime
    workdays: int  # whole working days overdue (0 for a task not yet due, or overdue since today or yesterday)
    owners: tuple[Owner, ...]
    level: int
    provisional: bool

    @property
    def department(self) -> str:
        return "、".join(o.department for o in self.owners)

    @property
    def responsible(self) -> str:
        if len(self.owners) == 1:
            return self.owners[0].people
        return "；".join(f"{o.department}：{o.people}" if o.people else o.department for o in self.owners)


def person(name: str | None, phone: str | None, role: str = "手机") -> str:
    """A person as the office calls them: the name and a number to ring (never a certificate number)."""
    name = name or "（未登记姓名）"
    return f"{name}（{role} {phone}）" if phone else f"{name}（未登记{role}）"


class Owners:
    """Who owes each task: looked up once per report (departments, officers, teams, the office's contact)."""

    def __init__(self, uow):
        self.uow = uow
        self.plan = uow.plan
        self.departments = uow.directory.departments()
        self.officers = uow.directory.officers()
        self.teams: dict[int, list[tuple[str, str]]] = {}  # the joint back-fills' teams, loaded as rows need them
        self.whole = False
        self.by_key: dict[tuple, tuple[Owner, ...]] = {}

    def load(self, rows) -> None:
        """The counted teams of the rows' joint back-fills: a few by their inspections (the board's first rows),
        many at once for the whole campaign (a report's every row)."""
        if self.whole:
            return
        ids = {r.inspection_id for r in rows if r.kind == "backfill" and not r.department_code
               and not r.certificate_no and r.inspection_id and r.inspection_id not in self.teams}
        if len(ids) > 1000:
            self.teams, self.whole = self.uow.teams.counted(campaign_code=self.plan.code), True
        elif ids:
            self.teams.update(self.uow.teams.counted(inspection_ids=sorted(ids)))

    def order(self, code: str) -> tuple[int, str]:
        """The plan's order of departments (the office last)."""
        codes = [d.code for d in self.plan.departments]
        return (codes.index(code), code) if code in codes else (len(codes), code)

    def name(self, code: str) -> str:
        return self.departments[code].name if code in self.departments else OFFICE

    def _contact(self, code: str) -> str:
        dep = self.departments.get(code)
        return person(dep.contact_name, dep.contact_phone, "联络人电话") if dep else ""

    def _officer(self, cert: str) -> str:
        officer = self.officers.get(cert)
        return person(officer.name, officer.mobile) if officer else "（执法人员不在名录中）"

    def of(self, row) -> tuple[Owner, ...]:
        if row.kind == "backfill" and not row.department_code and not row.certificate_no:
            return self._of(row)
        key = (row.department_code, row.certificate_no)  # a department's or an officer's: the same owners each time
        if key not in self.by_key:
            self.by_key[key] = self._of(row)
        return self.by_key[key]

    def _of(self, row) -> tuple[Owner, ...]:
        if row.department_code:
            return (Owner(self.name(row.department_code), self._contact(row.department_code), row.department_code),)
        if row.certificate_no:
            officer = self.officers.get(row.certificate_no)
            code = officer.department_code if officer else ""
            return (Owner(self.name(code), self._officer(row.certificate_no), code),)
        if row.kind == "backfill":
            by_dept: dict[str, list[str]] = {}
            for cert, dept in self.teams.get(row.inspection_id, []):
                by_dept.setdefault(dept, []).append(self._officer(cert))
            if by_dept:
                return tuple(Owner(self.name(d), "、".join(people), d)
                             for d, people in sorted(by_dept.items(), key=lambda kv: self.order(kv[0])))
        contact = self.plan.contact
        return (Owner(OFFICE, person(contact.name, contact.phone, "电话") if contact.name else ""),)


def _items(uow, rows, owners: Owners, *, late: bool) -> list[Overdue]:
    plan, calendar = uow.plan, uow.calendar
    lateness: dict[datetime, int] = {}  # a campaign's tasks share a few due instants: each counted once
    owners.load(rows)

    def workdays(due: datetime) -> int:
        if due not in lateness:
            lateness[due] = workdays_overdue(due, uow.now, calendar, plan.tz)
        return lateness[due]
    return [Overdue(r.id, r.kind, r.uscc or "", r.name or "", r.due_at, workdays(r.due_at) if late else 0,
                    owners.of(r), r.escalation_level, bool(r.provisional)) for r in rows]


def overdue_tasks(uow, owners: Owners | None = None) -> list[Overdue]:
    """Every open task whose due instant has passed — once each — with the departments that owe it and who is
    responsible there (a joint back-fill task is owed by every department on the team)."""
    return _items(uow, uow.reports.overdue(uow.plan.code, uow.now), owners or Owners(uow), late=True)


def by_department(items: list[Overdue]) -> list[dict]:
    """Per department, most overdue first: overdue tasks (a joint task counts once in each department that owes
    it; the distinct total is ``len(items)``), enterprises concerned, the worst lateness, who is responsible."""
    per: dict[str, dict] = {}
    for x in items:
        for owner in x.owners:
            row = per.setdefault(owner.department, {"name": owner.department, "tasks": 0, "enterprises": set(),
                                                    "worst": 0, "people": set()})
            row["tasks"] += 1
            row["worst"] = max(row["worst"], x.workdays)
            if x.uscc:
                row["enterprises"].add(x.uscc)
            if owner.people:
                row["people"].update(owner.people.split("、"))
    return [{**row, "enterprises": len(row["enterprises"]), "people": "、".join(sorted(row["people"]))}
            for row in sorted(per.values(), key=lambda r: (-r["tasks"], -r["worst"], r["name"]))]


def joint_note(items: list[Overdue]) -> str:
    """Said under every per-department count: why the departments' numbers may add up to more than the total."""
    return joint_words(len(items), sum(len(x.owners) > 1 for x in items))


def joint_words(total: int, joint: int) -> str:
    return (f"逾期事项共 {total} 项；其中 {joint} 项由多个部门共同负责（联合检查的回填），在每个负责部门各计一次。"
            if joint else f"逾期事项共 {total} 项。")


@dataclass(frozen=True)
class OverdueSummary:
    """What a screen shows of the overdue work: the counts, ``by_department``'s rows, and the first tasks only."""

    total: int  # distinct overdue tasks
    joint: int  # of them owed by more than one department
    departments: list[dict]  # as ``by_department`` gives them
    first: list[Overdue]  # the most overdue first (by due instant), at most ``shown``


def overdue_summary(uow, owners: Owners | None = None, shown: int = 50) -> OverdueSummary:
    """``by_department`` of every overdue task, from aggregates by SQL (never the tasks one by one), and the
    ``shown`` most overdue tasks: what the board shows at any size of campaign."""
    plan, reports, owners = uow.plan, uow.reports, owners or Owners(uow)
    per: dict[str, dict] = {}
    for code, tasks, enterprises, first_due, own in reports.overdue_by_owner(plan.code, uow.now,
                                                                             list(owners.departments)):
        name = owners.name(code or "")
        row = per.setdefault(name, {"name": name, "tasks": 0, "enterprises": 0, "worst": 0, "people": set()})
        row["tasks"] += tasks
        row["enterprises"] += enterprises
        row["worst"] = max(row["worst"], workdays_overdue(first_due, uow.now, uow.calendar, plan.tz))
        if own and code and (people := owners._contact(code)):  # its own tasks: its contacts answer for them
            row["people"].update(people.split("、"))
    contact = plan.contact
    for _, code, cert in reports.overdue_people(plan.code, uow.now):  # an officer's, a team's, the office's
        people = (owners._officer(cert) if cert else
                  person(contact.name, contact.phone, "电话") if contact.name else "")
        name = owners.name(code or "")
        if people and name in per:
            per[name]["people"].update(people.split("、"))
    departments = [{**row, "people": "、".join(sorted(row["people"]))}
                   for row in sorted(per.values(), key=lambda r: (-r["tasks"], -r["worst"], r["name"]))]
    total, joint = reports.overdue_counts(plan.code, uow.now)
    first = _items(uow, reports.overdue(plan.code, uow.now, first=shown), owners, late=True)
    return OverdueSummary(total, joint, departments, first)


@dataclass(frozen=True)
class DueSoon:
    due: str  # the day (and hour) it falls due, as read
    department: str
    kind: str  # the task's label
    count: int


def due_soon(uow, workdays: int = SOON_WORKDAYS, owners: Owners | None = None) -> tuple[str, list[DueSoon], int]:
    """What falls due from now to the end of the ``workdays``-th working day ahead, per due instant, department and
    kind; the period in words and the distinct tasks. A year no calendar covers shortens the look-ahead to a week."""
    plan, calendar = uow.plan, uow.calendar
    today = uow.now.astimezone(plan.tz).date()
    try:
        horizon = calendar.add_workdays(today, workdays)
        period = f"未来 {workdays} 个工作日（至{day_words(horizon)}）"
    except CalendarCoverageError:
        horizon = today + timedelta(days=7)
        period = f"未来 7 天（至{day_words(horizon)}；该年工作日历尚未导入）"
    until = datetime.combine(horizon + timedelta(days=1), time(0), plan.tz)
    groups = uow.reports.open_task_groups(plan.code, due_after=uow.now, due_until=until)
    owners = owners or Owners(uow)
    owners.load(groups)
    counts: dict[tuple, int] = {}
    for group in groups:  # a joint task counts once in each department that owes it
        for owner in owners.of(group):
            key = (group.due_at, owners.order(owner.code), owner.department, TASK_LABELS.get(group.kind, group.kind))
            counts[key] = counts.get(key, 0) + group.n
    rows = [DueSoon(deadline_words(due, plan.tz), dept, kind, n) for (due, _, dept, kind), n in sorted(counts.items())]
    return period, rows, sum(group.n for group in groups)


def office_level(escalation) -> int | None:
    """The escalation level a task reaches once its notice went to the office (None: the ladder has no office)."""
    ladder = list(escalation.ladder)
    return 2 + ladder.index("office") if "office" in ladder else None


@dataclass(frozen=True)
class Escalated:
    """Open tasks whose notices have reached the office, alike in when the notice did, kind and deadline."""

    since: datetime | None  # when the notice to the office fell due (None: the calendar cannot place it)
    kind: str
    due: datetime
    tasks: int
    enterprises: int  # how many enterprises they concern (0: tasks of no enterprise)
    names: tuple[str, ...]  # the first ``shown`` of those, by name
    departments: tuple[tuple[str, int], ...]  # for tasks of no enterprise: who owes them (and how many)


def escalated_to_office(uow, owners: Owners | None = None, shown: int = 8) -> tuple[int, list[Escalated]]:
    """Open tasks whose notices have reached the office (the office now chases them itself): how many, and
    grouped by when the notice did, kind and deadline. Counted by SQL per deadline, kind and owner, so a wave
    a week unanswered (a province's: hundreds of thousands) is a few dozen rows here; the enterprises are
    named from one more query per group."""
    plan = uow.plan
    level = office_level(plan.escalation)
    if level is None:
        return 0, []
    rows = uow.reports.escalated_groups(plan.code, level)
    people = People(uow, [r.inspection_id for r in rows if r.inspection_id])  # the steps each task skipped
    owners = owners or Owners(uow)
    owners.load(rows)
    reached_at: dict[tuple, datetime | None] = {}  # the groups share a few (deadline, steps skipped)

    def since(due: datetime, skip: frozenset[str]) -> datetime | None:
        if (due, skip) not in reached_at:
            try:
                reached_at[due, skip] = next((n.at for n in schedule(due, plan.escalation, uow.calendar, plan.tz,
                                                                     opens=plan.office_hours.opens, skip=skip)
                                              if n.level == level), None)
            except CalendarCoverageError:
                reached_at[due, skip] = None
        return reached_at[due, skip]
    alike: dict[tuple, list] = {}
    for row in sorted(rows, key=lambda r: r.first_id):
        skip = people.skipped(row)
        if "office" not in skip:  # the office is who does it (a publication): at the top, never escalated to it
            alike.setdefault((since(row.due_at, skip), row.kind, row.due_at), []).append(row)
    whole = {}  # (kind, due) -> how many groups of rows: one means its names need no owner to tell them apart
    for _, kind, due in alike:
        whole[kind, due] = whole.get((kind, due), 0) + 1
    out = []
    for (at, kind, due), members in alike.items():
        names, enterprises = uow.reports.escalated_enterprises(
            plan.code, level, kind, due, None if whole[kind, due] == 1 else members, shown)
        per: dict[str, int] = {}
        for row in members:
            who = "、".join(o.department for o in owners.of(row))
            per[who] = per.get(who, 0) + row.n
        out.append(Escalated(at, kind, due, sum(r.n for r in members), enterprises, tuple(names),
                             () if enterprises else tuple(per.items())))
    return sum(e.tasks for e in out), out


def reached(level: int, escalation) -> str:
    """How far a task's notices have gone, in words (``workflow.notices``' levels)."""
    ladder = list(escalation.ladder)
    if level <= 0:
        return "未通知"
    if level == 1:
        return "已提醒"
    step = ladder[min(level - 2, len(ladder) - 1)]
    return ("逾期通知：" if level == 2 else "督办：") + LADDER_LABELS.get(step, step)


def write_overdue_report(uow, path: Path) -> list[Overdue]:
    """``ssj report overdue``: overdue work per department with its chart below, then every overdue task once —
    landscape A4, deadlines written as the notice writes them."""
    from workflow.deadline_words import deadline_words

    with uow:
        plan = uow.plan
        items = overdue_tasks(uow)
        note = redraw_note(uow)
        mark = simulation_mark(uow)
    local = uow.now.astimezone(plan.tz)
    book = ReportBook()
    notes = [f"{mark}统计时间：{local:%Y-%m-%d %H:%M}（北京时间）", *([note] if note else [])]
    table = book.sheet("逾期部门", f"{plan.name} 逾期部门情况", ("部门", "逾期事项（项）", "涉及企业（户）", "最长逾期（工作日）",
                                                             "责任人及联系电话"),
                       [(r["name"], r["tasks"], r["enterprises"], r["worst"], r["people"])
                        for r in by_department(items)],
                       notes=[f"{notes[0]}；{joint_note(items)}", *notes[1:]], landscape=True, most=60)
    book.bar_chart(table, "各部门逾期事项", [2, 3], "项 / 户")
    book.sheet("逾期明细", f"{plan.name} 逾期事项明细", ("部门", "事项", "统一社会信用代码", "企业名称", "截止时间",
                                                     "逾期（工作日）", "责任人及联系电话", "已通知到"),
               [(x.department, TASK_LABELS.get(x.kind, x.kind), x.uscc, x.enterprise,
                 deadline_words(x.due, plan.tz, provisional=x.provisional), x.workdays, x.responsible,
                 reached(x.level, plan.escalation)) for x in items],
               notes=notes, landscape=True, most=36)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    book.save(Path(path))
    return items


@dataclass(frozen=True)
class DailyReport:
    day: date  # the campaign's day the report is for
    path: Path | None  # None: not a working day, nothing written or sent
    overdue: int = 0  # distinct overdue tasks
    queued: int = 0
    departments: list[dict] = field(default_factory=list)  # by_department's rows (name, tasks, enterprises, worst …)
    escalated: int = 0  # overdue tasks whose notices reached the office
    title: str = ""  # the campaign's name
    mailbox: list[str] = field(default_factory=list)  # messages of the office mailbox waiting for a person


def daily_report_folder(uow) -> Path:
    """Where the morning reports go: the campaign's own folder (``<SSJ_FILES_DIR>/<code>/报表``), so two campaigns
    never write the same file and nothing lands in the serving process's working directory."""
    return (uow.files_dir / "报表").resolve()


def prepare_daily_overdue_report(uow, out_dir: Path | None = None) -> DailyReport:
    """The morning report to the office: on working days only — the calendar decides, a cron cannot know 调休 —
    written as ``逾期部门报告_<date>.xlsx`` (in ``out_dir``, by default the campaign's ``报表`` folder) and queued
    once a day with the file attached."""
    with uow:
        plan = uow.plan
        day = uow.now.astimezone(plan.tz).date()
        if not uow.calendar.is_workday(day):
            return DailyReport(day, None, title=plan.name)
        folder = Path(out_dir).resolve() if out_dir is not None else daily_report_folder(uow)
    path = folder / f"逾期部门报告_{day.isoformat()}.xlsx"
    items = write_overdue_report(uow, path)
    departments = by_department(items)
    waiting = waiting_lines(uow, plan.tz)
    context = {"greeting": group_greeting(), "campaign_name": plan.name, "campaign_code": plan.code,
               "day": day_words(day), "count": len(items), "at": instant_words(uow.now, plan.tz),
               "attachment_name": path.name, "signature": signature(plan),
               "departments": [{"name": r["name"], "tasks": r["tasks"], "worst": r["worst"]} for r in departments],
               "attachments": [str(path)], "mail_problems": problem_summary(mail_problems(uow)),
               "joint": joint_note(items) if any(len(x.owners) > 1 for x in items) else "",
               "mailbox": waiting[:20], "mailbox_more": max(0, len(waiting) - 20)}
    with uow:
        queued = uow.queue(mails(f"overdue-report|{plan.code}|{day.isoformat()}", plan.office_mailboxes, kind="report",
                                 template="overdue_report", context=context))
    level = office_level(plan.escalation)
    escalated = sum(level is not None and x.level >= level for x in items)
    return DailyReport(day, path, len(items), queued, departments, escalated, plan.name, waiting)
