"""Read-side queries shared by services and reports (plain SQL, indexed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Select, and_, exists, func, select

from workflow.campaign_file import CampaignPlan, Sampling
from workflow.persistence import orm


def eligible_enterprises(sampling: Sampling, draw_at: datetime, *, with_credit_risk: bool = False) -> Select:
    """USCCs (and credit risks) matching a campaign's sampling criteria at the draw instant.

    In the latest directory, of the categories and statuses listed, capital within
    the range (inclusive, 万元), established on or before the draw date, and not
    inspected (a visit recorded, in any campaign) within the exclusion window.
    """
    e = orm.Enterprise
    draw_date: date = draw_at.date()
    conditions = [
        e.in_latest_directory.is_(True),
        e.category.in_(sampling.categories),
        e.status.in_(sampling.statuses),
        e.established_on <= draw_date,
    ]
    if sampling.capital_min is not None:
        conditions.append(e.registered_capital >= sampling.capital_min)
    if sampling.capital_max is not None:
        conditions.append(e.registered_capital <= sampling.capital_max)
    if sampling.exclude_inspected_within_days:
        i = orm.InspectionRow
        since = draw_at - timedelta(days=sampling.exclude_inspected_within_days)
        conditions.append(~exists().where(i.uscc == e.uscc, i.inspected_at >= since))
    columns = (e.uscc, e.credit_risk) if with_credit_risk else (e.uscc,)
    return select(*columns).where(and_(*conditions))


def count_of(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())


def inspecting_department_names(conn: Connection, plan: CampaignPlan) -> dict[int, list[str]]:
    """Per inspection of the campaign: the names of the departments that inspect it, in the plan's order."""
    i, a, d = orm.InspectionRow, orm.InspectionDepartment, orm.Department
    order = {dept.code: n for n, dept in enumerate(plan.departments)}
    found: dict[int, list[tuple[int, str]]] = {}
    for iid, code, name in conn.execute(select(a.inspection_id, a.department_code, d.name)
                                        .join(d, d.code == a.department_code).join(i, i.id == a.inspection_id)
                                        .where(i.campaign_code == plan.code, a.inspects.is_(True))):
        found.setdefault(iid, []).append((order.get(code, len(order)), name))
    return {iid: [name for _, name in sorted(names)] for iid, names in found.items()}


def item_codes(conn: Connection, code: str) -> dict[int, dict[str, set[str]]]:
    """Per inspection of the campaign: each item's set of result codes."""
    i, rc = orm.InspectionRow, orm.ResultCode
    found: dict[int, dict[str, set[str]]] = {}
    for iid, item, result in conn.execute(select(rc.inspection_id, rc.item_code, rc.code)
                                          .join(i, i.id == rc.inspection_id).where(i.campaign_code == code)):
        found.setdefault(iid, {}).setdefault(item, set()).add(result)
    return found
