"""Reports for the leading group, as functions the CLI, the flows and the demo all call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from workflow.campaign_file import CampaignPlan
from workflow.files.statistics_table import write_statistics_csv, write_statistics_xlsx
from workflow.inspection import STATE_LABELS
from workflow.persistence import orm
from workflow.persistence.statistics import campaign_statistics
from workflow.results import ABNORMAL_CODES, HANDLING, PROBLEM_CODES, enterprise_codes, wording
from workflow.services.campaigns import redraw_note
from workflow.statistics import StatsRow


def statistics(conn: Connection, plan: CampaignPlan) -> list[StatsRow]:
    names = dict(conn.execute(select(orm.Department.code, orm.Department.name)).all())
    return campaign_statistics(conn, plan.code, [(d.code, names.get(d.code, d.code)) for d in plan.departments])


def enterprise_results(conn: Connection, plan: CampaignPlan) -> list[tuple]:
    """One row per drawn enterprise: state, inspecting departments, visit date, results, handling."""
    i, e, a, d = orm.InspectionRow, orm.Enterprise, orm.InspectionDepartment, orm.Department
    rc, rh = orm.ResultCode, orm.ResultHandling
    base = select(i.id, i.uscc, e.name, i.state, i.visit_date).join(e, e.uscc == i.uscc).where(
        i.campaign_code == plan.code).order_by(i.uscc)
    departments: dict[int, list[str]] = {}
    for iid, name in conn.execute(select(a.inspection_id, d.name).join(d, d.code == a.department_code)
                                  .join(i, i.id == a.inspection_id)
                                  .where(i.campaign_code == plan.code, a.inspects.is_(True))):
        departments.setdefault(iid, []).append(name)
    codes: dict[int, dict[str, set[str]]] = {}
    for iid, item, code in conn.execute(select(rc.inspection_id, rc.item_code, rc.code).join(i, i.id == rc.inspection_id)
                                        .where(i.campaign_code == plan.code)):
        codes.setdefault(iid, {}).setdefault(item, set()).add(code)
    handling: dict[int, set[int]] = {}
    for iid, h in conn.execute(select(rh.inspection_id, rh.handling).join(i, i.id == rh.inspection_id)
                               .where(i.campaign_code == plan.code)):
        handling.setdefault(iid, set()).add(h)
    rows = []
    for iid, uscc, name, state, visit in conn.execute(base):
        items = codes.get(iid, {})
        union = enterprise_codes(list(items.values()))
        rows.append((uscc, name, STATE_LABELS[state], "、".join(departments.get(iid, [])),
                     visit.isoformat() if visit else "", "；".join(wording(union)),
                     sum(1 for s in items.values() if s & PROBLEM_CODES), "是" if union & ABNORMAL_CODES else "",
                     "；".join(HANDLING[h] for h in sorted(handling.get(iid, ())))))
    return rows


def write_statistics(engine: Engine, plan: CampaignPlan, path: Path, *, now: datetime, fmt: str = "xlsx") -> list[StatsRow]:
    """``ssj report stats``: the seed's attachment as XLSX (with a per-enterprise sheet) or CSV."""
    with engine.connect() as conn:
        rows = statistics(conn, plan)
        detail = enterprise_results(conn, plan) if fmt == "xlsx" else []
        note = redraw_note(conn, plan)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_statistics_csv(rows, path)
    else:
        write_statistics_xlsx(f"{plan.name}抽查情况统计表", plan.office, f"{now.astimezone(plan.tz):%Y年%m月%d日}",
                              rows, detail, path, note=note)
    return rows
