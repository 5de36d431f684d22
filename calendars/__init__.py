"""Working-day calendars: chinese-calendar overlaid by override files. Knows only dates."""

from calendars.errors import CalendarCoverageError, CalendarFileError
from calendars.workday_calendar import BEIJING, Deadline, WorkdayCalendar

__all__ = ["BEIJING", "CalendarCoverageError", "CalendarFileError", "Deadline", "WorkdayCalendar"]
