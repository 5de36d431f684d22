"""The dispatch to the departments: each contact gets the list of its enterprises to answer, by email."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import Connection, select

from calendars import WorkdayCalendar
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.files.dispatch_list import write_department_list
from workflow.persistence import orm
from workflow.services.outbox import queue


def queue_dispatch(conn: Connection, plan: CampaignPlan, usccs: Sequence[str], *, now: datetime, round_: int,
                   calendar: WorkdayCalendar, files_dir: Path) -> int:
    """Write each department's list under ``files_dir``/派发 (the campaign's folder) and queue its email (in the caller's transaction)."""
    d, e, it = orm.Department, orm.Enterprise, orm.InspectionItem
    departments = {r.code: r for r in conn.execute(select(d.code, d.name, d.contact_email))}
    enterprises = {r.uscc: r for r in conn.execute(select(e.uscc, e.name, e.address).where(e.uscc.in_(list(usccs))))}
    item_names = dict(conn.execute(select(it.code, it.name)).all())
    due = resolve_deadline(plan.deadlines["confirm"], calendar, now)
    local = now.astimezone(plan.tz)
    queued = 0
    for dept in plan.departments:
        info = departments.get(dept.code)
        if info is None or not info.contact_email:
            continue
        items = "；".join(f"{code} {item_names.get(code, '')}".strip() for code in dept.items)
        rows = [(plan.code, dept.code, u, enterprises[u].name, enterprises[u].address or "", items) for u in usccs]
        path = (Path(files_dir) / "派发" / f"{dept.code}-比对确认-{local:%Y%m%d}-第{round_}轮.xlsx").resolve()
        write_department_list(path, rows)
        context = {"department": info.name, "campaign_name": plan.name, "document_no": plan.document_no,
                   "office": plan.office, "drawn_at": f"{local:%Y-%m-%d %H:%M}", "count": len(rows),
                   "due": f"{due.at.astimezone(plan.tz):%Y-%m-%d %H:%M}", "provisional": due.provisional,
                   "attachment_name": path.name, "attachments": [str(path)]}
        queued += queue(conn, plan, key=f"dispatch|{plan.code}|{round_}|{dept.code}", recipients=[info.contact_email],
                        kind="dispatch", template="dispatch", context=context, now=now)
    return queued
