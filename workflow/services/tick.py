"""One step of a campaign's timeline, the same from the Prefect tick and from ``ssj tick``.

In order: deadlines follow a changed calendar; the office is reminded of a public
draw not held; the office is asked (once) for the draw parties' commitments to the
officer draw once confirmations close; the 一企一表 are dispatched once the officer
draw has been run; then the sweep queues what is due. Sending is the outbox's job.
Every step is idempotent, so a tick re-run after a crash, or run twice at once,
does each thing once; a step whose transaction lost a deadlock before it committed
is taken again at once (``uow.retried``; the sweep does that per batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from calendars import CalendarCoverageError
from workflow.deadline_words import deadline_words, instant_words
from workflow.errors import CannotComplete, UserError
from workflow.services.calendar_files import calendar_problem
from workflow.services.deadline_changes import MovedDeadline, follow_calendar
from workflow.services.forms import FormsReport
from workflow.services.sweep import SweepReport, sweep
from workflow.services.timeline import dispatch_forms, remind_pending_draw, request_officer_commitments
from workflow.tasks import TASK_LABELS

INFO, WARNING = "info", "warning"
# A sweep held by another process longer than this is called out: a province's first wave takes under a minute,
# so a pass this old is hung (its lock outlives it only while its process lives; ended, the next tick sweeps).
SWEEP_STUCK = timedelta(minutes=30)


@dataclass(frozen=True)
class Advanced:
    tz: ZoneInfo
    moved: list[MovedDeadline]
    draw_reminders: int
    swept: SweepReport
    commitments_requested: int = 0  # mails asking the office for the draw parties' commitments
    forms: FormsReport | None = None
    problems: list[str] = field(default_factory=list)
    missing_years: list[int] = field(default_factory=list)  # calendar years a step waits for (ssj tick exits 1)
    sweep_stuck: bool = False  # the campaign's sweep is held by a process that has not ended for SWEEP_STUCK

    def notes(self) -> list[tuple[str, str]]:
        """What the tick did that the office should read, in Chinese, with its level (the log, or stderr)."""
        tz, notes = self.tz, []
        if self.commitments_requested:
            notes.append((INFO, "比对确认已全部完成，已请领导小组办公室收集各参与方的执法人员抽取承诺值（ssj match commit）"))
        if self.forms:
            notes.append((INFO, f"已生成一企一表 {self.forms.forms} 份并派发给执法人员：{self.forms.schedule.parent.resolve() / '一企一表'}"))
        if self.swept.busy and not self.sweep_stuck:  # a stuck one is among the problems
            since = f"（自{instant_words(self.swept.busy_since, tz)}起）" if self.swept.busy_since else ""
            notes.append((INFO, f"另一个定时推进正在检查本项目的期限和提醒{since}，本次不重复检查（由它发出到期的通知）"))
        notes += [(WARNING, problem) for problem in self.problems]
        for change in self.moved:
            if change.before != change.after or change.kept:
                notes.append((INFO, f"期限调整：{TASK_LABELS.get(change.kind, change.kind)} "
                                    f"{deadline_words(change.before, tz)} → {deadline_words(change.after, tz)}"
                                    + ("（暂定期限不提前，保持原期限）" if change.kept else "")))
        return notes


def _covered(problems: list[str], missing: set[int], step: str, run, default=None):
    """``run()``, or ``default`` with the step named in ``problems`` when it needs a year no calendar covers:
    that step of this campaign waits for the year's file; its other steps, the mail and other campaigns go on."""
    try:
        return run()
    except CalendarCoverageError as exc:
        missing.add(exc.year)
        problems.append(f"{step}未完成：{exc}（添加后下一次定时推进会自动补上）")
        return default


def _counts_current(uow) -> bool:
    """The campaign's counts recounted if they are not current (a database from before them, rows written without
    a unit of work): ``persistence.counts``; one indexed read when they are."""
    with uow:
        return uow.counts.ensure(uow.plan.code)


def advance(uow) -> Advanced:
    """Every due step of the campaign's timeline, then the sweep; each in its own transaction."""
    with uow:
        plan = uow.plan
    problem = calendar_problem(plan)
    problems = [problem] if problem else []
    missing: set[int] = set()

    def step(name: str, handler, default=None):  # one transaction, retried on contention; a missing year named
        return _covered(problems, missing, name, lambda: uow.retried(handler), default)

    step("统计数字重算", _counts_current)
    moved = step("期限重新计算", follow_calendar, [])
    reminders = step("公开抽取提醒", remind_pending_draw, 0)
    requested, forms = 0, None
    with uow.exclusive(f"timeline|{plan.code}") as mine:
        if mine:  # else another tick is taking these steps right now
            requested = step("执法人员抽取承诺征集", request_officer_commitments, 0)
            try:
                forms = step("一企一表派发", dispatch_forms)
            except (UserError, CannotComplete) as refused:  # teams, dates, a full disk: the next tick tries again
                problems.append(f"一企一表未派发：{refused}（下一次定时推进会自动重试）")
    uow.seam("tick:stepped")
    swept = _covered(problems, missing, "检查期限", lambda: sweep(uow), SweepReport())  # retried batch by batch
    stuck = swept.busy_since is not None and uow.clock() - swept.busy_since > SWEEP_STUCK
    if stuck:
        problems.append(f"另一个定时推进自{instant_words(swept.busy_since, plan.tz)}起一直在检查本项目的期限和提醒，"
                        f"超过 {SWEEP_STUCK.seconds // 60} 分钟仍未结束，到期的通知在它结束前不会发出；若该进程已无响应，"
                        "请结束它（下一次定时推进会接着检查）")
    for year, count in sorted(swept.uncovered.items()):
        problems.append(f"{count} 项事项的提醒或督办无法确定：{CalendarCoverageError(year)}（添加后下一次定时推进会自动补上）")
    return Advanced(plan.tz, moved, reminders, swept, requested, forms, problems,
                    sorted(missing | set(swept.uncovered)), sweep_stuck=stuck)
