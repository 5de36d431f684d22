"""One step of a campaign's timeline, the same from the Prefect tick and from ``ssj tick``.

In order: deadlines follow a changed calendar, the office is reminded of a public
draw not held, then the sweep queues what is due. Sending is the outbox's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from workflow.campaign_file import CampaignPlan
from workflow.services.campaigns import campaign_calendar
from workflow.services.deadline_changes import MovedDeadline, follow_calendar
from workflow.services.sweep import SweepReport, sweep
from workflow.services.timeline import remind_pending_draw


@dataclass(frozen=True)
class Advanced:
    moved: list[MovedDeadline]
    draw_reminders: int
    swept: SweepReport


def advance(engine: Engine, plan: CampaignPlan, *, now: datetime, actor: str) -> Advanced:
    moved = follow_calendar(engine, plan, now=now, actor=actor)
    reminders = remind_pending_draw(engine, plan, now=now)
    swept = sweep(engine, plan, now=now, calendar=campaign_calendar(plan))
    return Advanced(moved, reminders, swept)
