"""When a deadline of the campaign falls, given the event it runs from.

The campaign file writes each deadline in one of four forms (GLOSSARY.md): within
N (working) days after an event, at an instant, by the end of a day, or a window.
This resolves one of them on the campaign's working-day calendar; the plan
checker uses it on the planned timeline, the tasks on the real events.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from calendars import Deadline, WorkdayCalendar
from workflow.campaign_plan import DeadlineSpec


def resolve_deadline(spec: DeadlineSpec, calendar: WorkdayCalendar, event_at: datetime | None) -> Deadline:
    """The due instant of ``spec``; ``event_at`` is needed (only) for the "within" form."""
    if spec.form == "within":
        if event_at is None:
            raise ValueError(f"deadline {spec.name} runs from an event: give its instant")
        return calendar.deadline(event_at, str(spec.rule), spec.cutoff)
    if spec.form == "at":
        return Deadline(spec.at, calendar.is_provisional(spec.at.date()))
    day = spec.on if spec.form == "on" else spec.end
    calendar.is_workday(day)  # raises CalendarCoverageError for a year no calendar covers
    return Deadline(calendar.end_of(day, spec.cutoff), calendar.is_provisional(day))


def visit_instant(day: date, tz: ZoneInfo) -> datetime:
    """The instant a visit counts from: noon of its day (a visit has a date, not a time; the day never counts)."""
    return datetime.combine(day, time(12), tz)
