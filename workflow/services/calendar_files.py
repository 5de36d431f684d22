"""A campaign's working-day calendar: which override files it reads, and the one it adopted.

The campaign keeps the files its deadlines were last computed with (their text, in
the database), so a file found broken later does not move a deadline: the adopted
calendar stays in force until the file is corrected.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from calendars import CalendarFileError, WorkdayCalendar
from calendars.workday_calendar import bundled_files, environment_files
from workflow.campaign_plan import CampaignPlan
from workflow.plan_checker import plan_calendar


def _files(plan: CampaignPlan, base_dir: Path | None) -> list[Path]:
    """The bundled, environment and campaign override files, campaign files relative to ``base_dir`` (default: here)."""
    base = base_dir or Path.cwd()
    return [*bundled_files(), *environment_files(),
            *(Path(p) if Path(p).is_absolute() else base / p for p in plan.calendar_files)]


def campaign_calendar(plan: CampaignPlan, base_dir: Path | None = None) -> WorkdayCalendar:
    """The campaign's working-day calendar; when an override file is now broken, the one it last adopted."""
    try:
        return plan_calendar(plan, base_dir or Path.cwd())
    except CalendarFileError:
        if not plan.calendar_snapshot:
            raise
        return WorkdayCalendar.from_texts([tuple(f) for f in json.loads(plan.calendar_snapshot)],
                                          provisional=plan.provisional_calendar)


def calendar_problem(plan: CampaignPlan, base_dir: Path | None = None) -> str | None:
    """Why the override files as they are now are refused (and the adopted calendar kept), or None."""
    try:
        plan_calendar(plan, base_dir or Path.cwd())
    except CalendarFileError as exc:
        kept = "仍按上次采用的日历计算期限" if plan.calendar_snapshot else "没有可沿用的日历"
        return f"工作日历文件有误，未采用：{exc}；{kept}（改正文件后，下一次推进或 ssj calendar reload 重新计算）"
    return None


def calendar_snapshot(plan: CampaignPlan, base_dir: Path | None = None) -> str | None:
    """The override files the campaign's calendar reads now, to keep with its deadlines (None if one is broken)."""
    if calendar_problem(plan, base_dir) is not None:
        return None
    return json.dumps([[str(p), Path(p).read_text(encoding="utf-8")] for p in _files(plan, base_dir)],
                      ensure_ascii=False)


def calendar_fingerprint(plan: CampaignPlan, base_dir: Path | None = None) -> str:
    """SHA-256 over every override file the campaign's calendar reads: a change means deadlines may move."""
    digest = hashlib.sha256(f"provisional={plan.provisional_calendar}".encode())
    for path in _files(plan, base_dir):
        digest.update(str(Path(path).name).encode("utf-8") + b"\0")
        digest.update(Path(path).read_bytes() if Path(path).exists() else b"(missing)")
    return digest.hexdigest()
