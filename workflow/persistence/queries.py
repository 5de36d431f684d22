"""Read-side queries shared by services and reports (plain SQL, indexed)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, func, select

from workflow.campaign_file import Sampling
from workflow.persistence import orm


def eligible_enterprises(sampling: Sampling, draw_date: date) -> Select:
    """USCCs matching a campaign's sampling criteria on the draw date.

    The exclusion window (enterprises inspected within N days) joins the
    inspection history, which a later migration adds; until then nothing is excluded.
    """
    e = orm.Enterprise
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
    return select(e.uscc).where(and_(*conditions))


def count_of(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())
