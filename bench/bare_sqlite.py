"""The baselines' side: the DBAPI alone, on the same file with the product's pragmas."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def connect(db: Path) -> sqlite3.Connection:
    """Autocommit off (we BEGIN ourselves), foreign keys, WAL and synchronous=NORMAL, as ``make_engine``."""
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    return con


def timed_executemany(db: Path, sql: str, rows, begin: str = "BEGIN") -> float:
    """``executemany`` of ``rows`` in one transaction on ``db``: the seconds it took, connection not counted."""
    con = connect(db)
    start = time.perf_counter()
    con.execute(begin)
    con.executemany(sql, rows)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed
