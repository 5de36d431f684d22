"""The campaign plan checker: reads a campaign file with the calendar, before anything starts.

It resolves every deadline on the planned timeline (each event at the latest
moment the plan allows) and reports what does not fit, each finding with its
severity (错误 stops the campaign, 警告 informs) and the days involved, written
as a period's last day. It reads only the plan and the calendar: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from datetime import date, datetime, timedelta

from calendars import CalendarCoverageError, CalendarFileError, Deadline, WorkdayCalendar
from workflow.campaign_file import DEADLINE_LABELS, CampaignFileError, CampaignPlan, DeadlineSpec, parse_campaign
from workflow.errors import UserError
from workflow.deadlines import resolve_deadline, visit_instant

ERROR = "错误"
WARNING = "警告"


@dataclass(frozen=True)
class Finding:
    severity: str
    subject: str  # the deadline or key the finding is about
    message: str

    def line(self) -> str:
        return f"{self.severity} {self.subject}: {self.message}"


def _d(day: date) -> str:
    return day.isoformat()


class _Timeline:
    """Resolves deadlines in dependency order on the planned timeline."""

    def __init__(self, plan: CampaignPlan, calendar: WorkdayCalendar):
        self.plan, self.calendar = plan, calendar
        self.resolved: dict[str, Deadline] = {}

    def event_at(self, event: str) -> datetime:
        plan, tz = self.plan, self.plan.tz
        if event in ("draw", "dispatch"):
            return plan.draw_at
        if event in ("officers_drawn", "forms_dispatched"):
            confirm = self.resolve("confirm")
            return confirm.at if confirm else plan.draw_at
        if event == "visit":
            window = plan.deadlines["visit"]
            return visit_instant(window.end, tz)
        if event == "reported":
            backfill = self.resolve("backfill")
            return backfill.at if backfill else plan.draw_at
        raise ValueError(event)

    def resolve(self, name: str) -> Deadline | None:
        if name in self.resolved:
            return self.resolved[name]
        spec = self.plan.deadlines.get(name)
        if spec is None:
            return None
        self.resolved[name] = self._due(spec)
        return self.resolved[name]

    def _due(self, spec: DeadlineSpec) -> Deadline:
        return resolve_deadline(spec, self.calendar, self.event_at(spec.after) if spec.form == "within" else None)


def planned_deadlines(plan: CampaignPlan, calendar: WorkdayCalendar) -> dict[str, Deadline]:
    timeline = _Timeline(plan, calendar)
    for name in plan.deadlines:
        timeline.resolve(name)
    return timeline.resolved


def plan_calendar(plan: CampaignPlan, base_dir: Path) -> WorkdayCalendar:
    """The campaign's calendar: the default one with its own files (relative to the campaign file)."""
    files = [p if Path(p).is_absolute() else base_dir / p for p in plan.calendar_files]
    return WorkdayCalendar.from_files(files, provisional=plan.provisional_calendar)


def check_plan(plan: CampaignPlan, calendar: WorkdayCalendar) -> list[Finding]:
    findings: list[Finding] = []
    try:
        timeline = planned_deadlines(plan, calendar)
    except CalendarCoverageError as exc:
        return [Finding(ERROR, "calendar", str(exc))]

    label = DEADLINE_LABELS
    for name, planned in timeline.items():
        if planned.provisional:
            findings.append(Finding(WARNING, f"deadlines.{name}",
                                    f"{label[name]}截止 {_d(planned.last_day)}（暂定：该年节假日安排尚未发布，发布后将重新计算）"))
        spec = plan.deadlines[name]
        if not spec.statutory and not plan.window_from <= planned.last_day <= plan.window_to:
            findings.append(Finding(ERROR, f"deadlines.{name}",
                                    f"{label[name]}截止 {_d(planned.last_day)} 不在抽查时间 {_d(plan.window_from)} 至 "
                                    f"{_d(plan.window_to)} 之内"))
        absolute_day = spec.at.date() if spec.form == "at" else spec.on if spec.form == "on" else \
            spec.end if spec.form == "window" else None
        if absolute_day is not None and not calendar.is_workday(absolute_day):
            findings.append(Finding(WARNING, f"deadlines.{name}",
                                    f"{label[name]}截止日 {_d(absolute_day)} 不是工作日"))

    visit = plan.deadlines["visit"]
    if calendar.workdays_between(visit.start - timedelta(days=1), visit.end) == 0:
        findings.append(Finding(ERROR, "deadlines.visit",
                                f"实地核查时间 {_d(visit.start)} 至 {_d(visit.end)} 没有工作日"))
    if visit.start <= plan.draw_at.date():
        findings.append(Finding(ERROR, "deadlines.visit",
                                f"实地核查开始 {_d(visit.start)} 不晚于抽取日 {_d(plan.draw_at.date())}"))

    def before(step: str, needs: str, severity: str, why: str) -> None:
        a, b = timeline.get(step), timeline.get(needs)
        if a and b and a.last_day < b.last_day:
            findings.append(Finding(severity, f"deadlines.{step}",
                                    f"{label[step]}截止 {_d(a.last_day)} 早于{label[needs]}截止 {_d(b.last_day)}{why}"))

    def done_before_visit(step: str) -> None:
        a = timeline.get(step)
        if a and a.last_day >= visit.start:
            findings.append(Finding(WARNING, f"deadlines.{step}",
                                    f"{label[step]}截止 {_d(a.last_day)} 不早于实地核查开始 {_d(visit.start)}"))

    for step in ("confirm", "confirmation_report", "acknowledge"):
        done_before_visit(step)
    before("confirmation_report", "confirm", WARNING, "（报送时部门可能尚未完成比对确认）")
    before("summary", "backfill", WARNING,
           f"（{_d(visit.end)} 实地核查的结果可在 {_d(timeline['backfill'].last_day)} 前回填；"
           "总结仍可按截至报送时已知的结果报送）" if "backfill" in timeline else "")
    before("publish", "backfill", ERROR, "（公示需要回填的结果）")

    if calendar.workdays_between(plan.window_from - timedelta(days=1), plan.window_to) == 0:
        findings.append(Finding(ERROR, "campaign.window",
                                f"抽查时间 {_d(plan.window_from)} 至 {_d(plan.window_to)} 没有工作日"))
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.subject))


@dataclass(frozen=True)
class CheckedPlan:
    plan: CampaignPlan
    planned: dict[str, Deadline]  # empty when a year no calendar covers stops the resolution (itself a finding)
    findings: list[Finding]


def check_file(source: str, path: str) -> CheckedPlan:
    """``ssj campaign check``: the file read, its calendar (files relative to the file), every deadline and finding.

    A file that is not a campaign, or names a broken calendar file, is refused (UserError) with its place."""
    try:
        plan = parse_campaign(source)
    except CampaignFileError as exc:
        raise UserError(exc.lines(path)[0], exc.lines(path)) from None
    try:
        calendar = plan_calendar(plan, Path(path).resolve().parent)
    except CalendarFileError as exc:
        raise UserError(f"{path}: campaign.calendar_files: {exc}") from None
    findings = check_plan(plan, calendar)
    try:
        planned = planned_deadlines(plan, calendar)
    except CalendarCoverageError:  # already reported as a finding
        planned = {}
    return CheckedPlan(plan, planned, findings)
