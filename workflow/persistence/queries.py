"""Read-side queries shared by services and reports (plain SQL, indexed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, func, select

from workflow.campaign_file import Sampling
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
