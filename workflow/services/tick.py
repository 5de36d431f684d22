"""One step of a campaign's timeline, the same from the Prefect tick and from ``ssj tick``.

In order: deadlines follow a changed calendar; the office is reminded of a public
draw not held; the officer draw is committed once confirmations close; the
一企一表 are dispatched once the officer draw has been run; then the sweep queues
what is due. Sending is the outbox's job. Every step is idempotent, so a tick
re-run after a crash, or run twice at once, does each thing once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from workflow.campaign_file import CampaignPlan
from workflow.errors import UserError
from workflow.persistence.locks import try_exclusive
from workflow.services.campaigns import calendar_problem, campaign_calendar
from workflow.services.deadline_changes import MovedDeadline, follow_calendar
from workflow.services.forms import FormsReport
from workflow.services.sweep import SweepReport, sweep
from workflow.services.timeline import commit_officer_draw, dispatch_forms, remind_pending_draw


@dataclass(frozen=True)
class Advanced:
    moved: list[MovedDeadline]
    draw_reminders: int
    swept: SweepReport
    officer_commitment: str | None = None
    forms: FormsReport | None = None
    problems: list[str] = field(default_factory=list)


def advance(engine: Engine, plan: CampaignPlan, *, now: datetime, actor: str, files_dir: Path) -> Advanced:
    calendar = campaign_calendar(plan)  # the adopted one when a file is broken now
    problem = calendar_problem(plan)
    problems = [problem] if problem else []
    moved = follow_calendar(engine, plan, now=now, actor=actor)
    reminders = remind_pending_draw(engine, plan, now=now)
    commitment, forms = None, None
    with try_exclusive(engine, f"timeline|{plan.code}") as mine:
        if mine:  # else another tick is taking these steps right now
            commitment = commit_officer_draw(engine, plan, now=now, actor=actor)
            try:
                forms = dispatch_forms(engine, plan, files_dir, now=now, actor=actor, calendar=calendar)
            except UserError as refused:
                problems.append(str(refused))  # the office fixes teams or dates; the next tick tries again
    swept = sweep(engine, plan, now=now, calendar=calendar)
    return Advanced(moved, reminders, swept, commitment, forms, problems)
