"""Tasks: work that runs in parallel, each with its own clock and responsible people.

A department's confirmation, an officer's acknowledgement, the stamped
confirmation report, a department's summary, the back-fill and the publication
are tasks — not extra enterprise states. Each has a stable ``key`` so opening the
same task twice (a re-run tick) opens it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calendars import Deadline

TASK_LABELS = {
    "confirm": "部门比对确认",
    "confirmation_report": "报送盖章的比对确认报告",
    "acknowledge": "执法人员确认一企一表",
    "summary": "部门报送检查表、总结和统计表",
    "backfill": "回填检查结果",
    "publish": "公示检查结果",
}
DONE = "done"
CANCELLED = "cancelled"  # the inspection was withdrawn: nobody owes this work any more


def task_key(kind: str, campaign_code: str, *, inspection_id: int | None = None, department: str | None = None,
             certificate_no: str | None = None) -> str:
    parts = [kind, campaign_code, str(inspection_id or ""), department or "", certificate_no or ""]
    return "|".join(parts)


@dataclass(frozen=True)
class NewTask:
    """A task to open: its kind, its campaign, when it is due — and whose it is (an enterprise's, a department's,
    an officer's, or a mix: the key tells them apart)."""

    kind: str
    campaign_code: str
    due: Deadline  # resolved on the campaign's calendar (``provisional`` when the year has no published calendar)
    inspection_id: int | None = None
    department: str | None = None
    certificate_no: str | None = None
    """Whose work it is: the enterprise's inspection, the department, the officer — as the kind needs."""

    @property
    def key(self) -> str:
        return task_key(self.kind, self.campaign_code, inspection_id=self.inspection_id, department=self.department,
                        certificate_no=self.certificate_no)


def is_overdue(due_at: datetime, now: datetime) -> bool:
    """SPEC.md §3: something is overdue when now >= due."""
    return now >= due_at
