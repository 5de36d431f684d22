"""Planner statistics refreshed after a bulk write, so the next query is planned on the rows that are there.

PostgreSQL plans on ``pg_statistic`` and ``pg_class.reltuples``; autovacuum brings
them up to date only later (a minute or more, and not inside a burst), and a plan
made on "the table is empty" can turn a lookup into minutes (issue 19: ``campaign
status`` right after a draw). So the services that write many rows — an import, a
draw's dispatch, a large sweep, a publication — call ``refresh_statistics`` after
their commit, in a short transaction of its own (no lock held by the write, and a
write that rolled back analyses nothing). ANALYZE samples a fixed number of rows
(30,000 by default), so it costs tens of milliseconds whatever the table's size.

SQLite: nothing. Without ``sqlite_stat1`` its planner keeps the rule-based plans
the SQLite figures were measured with; ANALYZE there reads every index in full
(seconds at a million rows) and would change plans nobody measured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

SWEEP_ROWS = 10_000  # a sweep that moved more tasks than this analyses what it wrote

# The tables each bulk write touches.
DIRECTORY_TABLES = {"departments": ("departments",), "officers": ("officers", "officer_conflicts"),
                    "enterprises": ("enterprises",), "items": ("inspection_items", "inspection_item_contents")}
DRAW_TABLES = ("inspections", "inspection_departments", "tasks", "outbox", "audit_events")
SWEEP_TABLES = ("tasks", "pending_notices", "outbox")
PUBLICATION_TABLES = ("inspections", "tasks", "outbox", "audit_events")


def refresh_statistics(engine: Engine, tables: Iterable[str]) -> None:
    """ANALYZE ``tables`` on PostgreSQL (best effort: the write is committed; autovacuum catches up if this fails)."""
    names = sorted(set(tables))
    if engine.dialect.name != "postgresql" or not names:
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for name in names))
    except DBAPIError as exc:  # a lock wait cut short, a role that may not analyse: plans stay as they were
        log.warning("ANALYZE %s failed: %s", ", ".join(names), exc)
