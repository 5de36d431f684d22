"""The campaign plan checker: reads a campaign file with the calendar, before anything starts.

It resolves every deadline on the planned timeline (each event at the latest
moment the plan allows) and reports what does not fit, each finding with its
severity (错误 stops the campaign, 警告 informs) and the days involved, written
as a period's last day. It reads only the plan and the calendar: no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from datetime import datetime, timedelta

from calendars import CalendarCoverageError, CalendarFileError, Deadline, WorkdayCalendar
from workflow.campaign_plan import DEADLINE_LABELS, CampaignPlan, DeadlineSpec
from workflow.errors import UserError
from workflow.deadline_words import day_words, deadline_words
from workflow.deadlines import resolve_deadline, visit_instant

ERROR = "错误"
WARNING = "警告"


TOPICS = {"calendar": "工作日历", "campaign.window": "抽查时间"}


@dataclass(frozen=True)
class Finding:
    severity: str
    subject: str  # the deadline or key the finding is about
    message: str

    @property
    def topic(self) -> str:
        """What the finding is about, as the office names it: 结果回填, 工作日历 …"""
        if self.subject.startswith("deadlines."):
            return DEADLINE_LABELS.get(self.subject.split(".", 1)[1], self.subject)
        return TOPICS.get(self.subject, self.subject)

    def line(self) -> str:
        """The finding for the file's author: the office's name for it, and the file's key in parentheses."""
        return f"{self.severity} {self.topic}（{self.subject}）：{self.message}"


def deadline_line(name: str) -> str:
    """A deadline of the file as ``campaign check`` lists it: ``部门比对确认（confirm）``."""
    return f"{DEADLINE_LABELS.get(name, name)}（{name}）"


_d = day_words


class _Timeline:
    """Resolves deadlines in dependency order on the planned timeline.

    A deadline that needs a year no calendar covers is kept in ``unresolved`` (with
    the error naming the year), and so is every deadline that runs from it; the
    others are resolved all the same."""

    def __init__(self, plan: CampaignPlan, calendar: WorkdayCalendar):
        self.plan, self.calendar = plan, calendar
        self.resolved: dict[str, Deadline] = {}
        self.unresolved: dict[str, CalendarCoverageError] = {}

    def _after(self, name: str) -> Deadline | None:
        found = self.resolve(name)
        if name in self.unresolved:
            raise self.unresolved[name]
        return found

    def event_at(self, event: str) -> datetime:
        plan, tz = self.plan, self.plan.tz
        if event in ("draw", "dispatch"):
            return plan.draw_at
        if event in ("officers_drawn", "forms_dispatched"):
            confirm = self._after("confirm")
            return confirm.at if confirm else plan.draw_at
        if event == "visit":
            window = plan.deadlines["visit"]
            return visit_instant(window.end, tz)
        if event == "reported":
            backfill = self._after("backfill")
            return backfill.at if backfill else plan.draw_at
        raise ValueError(event)

    def resolve(self, name: str) -> Deadline | None:
        if name in self.resolved or name in self.unresolved:
            return self.resolved.get(name)
        spec = self.plan.deadlines.get(name)
        if spec is None:
            return None
        try:
            self.resolved[name] = self._due(spec)
        except CalendarCoverageError as exc:
            self.unresolved[name] = exc
        return self.resolved.get(name)

    def _due(self, spec: DeadlineSpec) -> Deadline:
        return resolve_deadline(spec, self.calendar, self.event_at(spec.after) if spec.form == "within" else None)


def _timeline(plan: CampaignPlan, calendar: WorkdayCalendar) -> _Timeline:
    timeline = _Timeline(plan, calendar)
    for name in plan.deadlines:
        timeline.resolve(name)
    return timeline


def planned_deadlines(plan: CampaignPlan, calendar: WorkdayCalendar) -> dict[str, Deadline]:
    """Every deadline on the planned timeline; CalendarCoverageError when one needs a year no calendar covers."""
    timeline = _timeline(plan, calendar)
    for error in timeline.unresolved.values():
        raise error
    return timeline.resolved


@dataclass(frozen=True)
class Unresolved:
    """A deadline the calendar cannot place: the year it needs, and roughly when it falls (a provisional reading)."""

    year: int
    about: str  # "2027-01-??": the year and the month a provisional calendar gives, or "2027-??-??"
    month: int | None = None

    def line(self) -> str:
        when = f"{self.year}年{self.month}月" if self.month else f"{self.year}年"
        return (f"约在{when}，具体日期无法确定：缺少 {self.year} 年工作日历（添加覆盖文件 calendars/data/{self.year}.toml "
                f"或用 SSJ_CALENDAR_FILES 指定，格式见 README；或在方案中设置 provisional_calendar = true）")


def unresolved_deadlines(plan: CampaignPlan, calendar: WorkdayCalendar,
                         provisional: WorkdayCalendar | None = None) -> dict[str, Unresolved]:
    """The deadlines no calendar places, each with its missing year and, read on ``provisional``, its month."""
    missing = _timeline(plan, calendar).unresolved
    if not missing:
        return {}
    guess = _timeline(plan, provisional).resolved if provisional is not None else {}
    found = {}
    for name, error in missing.items():
        day = guess[name].last_day if name in guess else None
        month = day.month if day is not None and day.year == error.year else None
        found[name] = Unresolved(error.year, f"{error.year}-{month:02d}-??" if month else f"{error.year}-??-??", month)
    return found


def _or_unknown(question, *args):
    """A calendar question, or None where it needs a year no calendar covers (that is a finding of its own)."""
    try:
        return question(*args)
    except CalendarCoverageError:
        return None


def plan_calendar(plan: CampaignPlan, base_dir: Path) -> WorkdayCalendar:
    """The campaign's calendar: the default one with its own files (relative to the campaign file)."""
    files = [p if Path(p).is_absolute() else base_dir / p for p in plan.calendar_files]
    return WorkdayCalendar.from_files(files, provisional=plan.provisional_calendar)


def check_plan(plan: CampaignPlan, calendar: WorkdayCalendar) -> list[Finding]:
    found = _timeline(plan, calendar)
    timeline = found.resolved
    years = {error.year: error for error in found.unresolved.values()}
    findings = [Finding(ERROR, "calendar", str(years[year])) for year in sorted(years)]

    label, tz = DEADLINE_LABELS, plan.tz

    def due(planned: Deadline) -> str:
        return deadline_words(planned.at, tz)

    for name, planned in timeline.items():
        if planned.provisional:
            findings.append(Finding(WARNING, f"deadlines.{name}",
                                    f"{label[name]}期限暂定为{due(planned)}（该年节假日安排尚未发布，发布后将重新计算）"))
        spec = plan.deadlines[name]
        if not spec.statutory and not plan.window_from <= planned.last_day <= plan.window_to:
            findings.append(Finding(ERROR, f"deadlines.{name}",
                                    f"{label[name]}期限{due(planned)}不在抽查时间{_d(plan.window_from)}至"
                                    f"{_d(plan.window_to)}之内"))
        absolute_day = spec.at.date() if spec.form == "at" else spec.on if spec.form == "on" else \
            spec.end if spec.form == "window" else None
        if absolute_day is not None and _or_unknown(calendar.is_workday, absolute_day) is False:
            findings.append(Finding(WARNING, f"deadlines.{name}",
                                    f"{label[name]}截止日{_d(absolute_day)}不是工作日"))

    visit = plan.deadlines["visit"]
    if _or_unknown(calendar.workdays_between, visit.start - timedelta(days=1), visit.end) == 0:
        findings.append(Finding(ERROR, "deadlines.visit",
                                f"实地核查时间{_d(visit.start)}至{_d(visit.end)}没有工作日"))
    if visit.start <= plan.draw_at.date():
        findings.append(Finding(ERROR, "deadlines.visit",
                                f"实地核查开始日{_d(visit.start)}不晚于抽取日{_d(plan.draw_at.date())}"))

    def before(step: str, needs: str, severity: str, why: str) -> None:
        a, b = timeline.get(step), timeline.get(needs)
        if a and b and a.last_day < b.last_day:
            findings.append(Finding(severity, f"deadlines.{step}",
                                    f"{label[step]}期限{due(a)}，早于{label[needs]}期限{due(b)}{why}"))

    def done_before_visit(step: str) -> None:
        a = timeline.get(step)
        if a and a.last_day >= visit.start:
            findings.append(Finding(WARNING, f"deadlines.{step}",
                                    f"{label[step]}期限{due(a)}，不早于实地核查开始日{_d(visit.start)}"))

    for step in ("confirm", "confirmation_report", "acknowledge"):
        done_before_visit(step)
    before("confirmation_report", "confirm", WARNING, "（报送时部门可能尚未完成比对确认）")
    before("summary", "backfill", WARNING,
           f"（{_d(visit.end)}实地核查的结果可在{due(timeline['backfill'])}回填；"
           "总结仍可按截至报送时已知的结果报送）" if "backfill" in timeline else "")
    before("publish", "backfill", ERROR, "（公示需要回填的结果）")

    if _or_unknown(calendar.workdays_between, plan.window_from - timedelta(days=1), plan.window_to) == 0:
        findings.append(Finding(ERROR, "campaign.window",
                                f"抽查时间{_d(plan.window_from)}至{_d(plan.window_to)}没有工作日"))
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.subject))


@dataclass(frozen=True)
class CheckedPlan:
    plan: CampaignPlan
    planned: dict[str, Deadline]  # every deadline the calendar places
    findings: list[Finding]
    unresolved: dict[str, Unresolved] = field(default_factory=dict)  # those it cannot (a year no calendar covers)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]


def check_file(source: str, path: str) -> CheckedPlan:
    """``ssj campaign check``: the file read, its calendar (files relative to the file), every deadline and finding.

    A file that is not a campaign, or names a broken calendar file, is refused (UserError) with its place."""
    from workflow.campaign_file import CampaignFileError, parse_campaign  # the reader: what a tick never needs

    try:
        plan = parse_campaign(source)
    except CampaignFileError as exc:
        raise UserError(exc.lines(path)[0], exc.lines(path)) from None
    try:
        calendar = plan_calendar(plan, Path(path).resolve().parent)
    except CalendarFileError as exc:
        raise UserError(f"{path}: campaign.calendar_files: {exc}") from None
    findings = check_plan(plan, calendar)
    unresolved = {}
    if not plan.provisional_calendar:
        try:
            rough = plan_calendar(replace(plan, provisional_calendar=True), Path(path).resolve().parent)
        except ValueError:  # no year covered at all: nothing to read a month on
            rough = None
        unresolved = unresolved_deadlines(plan, calendar, rough)
    return CheckedPlan(plan, _timeline(plan, calendar).resolved, findings, unresolved)
