"""The baselines' side: the DBAPI alone, on the same file with the product's pragmas."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(db: Path) -> sqlite3.Connection:
    """Autocommit off (we BEGIN ourselves), foreign keys, WAL and synchronous=NORMAL, as ``make_engine``."""
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    return con
