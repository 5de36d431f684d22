"""One database state read by several connections at once (PostgreSQL's exported snapshots).

A screen's big aggregates are independent queries; on a machine with two cores two of them can run at the
same time, each on its own connection — but then each would see the database as it is when it starts. A
transaction exports its snapshot (``pg_export_snapshot``) and the other connections' transactions import it
(``SET TRANSACTION SNAPSHOT``, repeatable read, read only): every query then sees exactly what the first
transaction saw when it exported it, as if they had all run in it at that moment. The exporting transaction must stay open
until the others have imported it (``UnitOfWork.aside`` waits for them before it ends).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9A-F]+)?")  # what pg_export_snapshot returns


def shares_snapshots(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def export_snapshot(conn: Connection) -> str:
    """This transaction's snapshot, for others to import while it stays open."""
    return conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()


def import_snapshot(conn: Connection, snapshot: str) -> None:
    """Make ``conn``'s new transaction read-only and see exactly ``snapshot`` (its first statements)."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # a utility command: no parameters
