"""A named lock held by one process at a time, released by the database or the OS if that process dies.

The tick's timeline steps (committing the officer draw, dispatching the forms)
write files and several transactions: two ticks at once must not both run them.
PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection
kept for the block. SQLite: ``flock`` on a file beside the database. Nobody
waits: whoever does not get the lock skips the step, which the holder is doing — and can ask since when
(``held_since``), so that a holder that hangs is noticed rather than trusted for ever.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, text


def _digest(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()[:8]


def _key(name: str) -> int:
    return int.from_bytes(_digest(name), "big", signed=True)


def _lock_file(engine: Engine, name: str) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(f"{Path(database).name}.{_digest(name).hex()}.lock")


@contextmanager
def try_exclusive(engine: Engine, name: str) -> Iterator[bool]:
    if engine.dialect.name == "postgresql":
        key = _key(name)
        with engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = _lock_file(engine, name)
    if path is None:
        yield True  # one connection, one process: nobody to exclude
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.utime(path)  # its time is when the holder took it (``held_since``)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held_since(engine: Engine, name: str) -> datetime | None:
    """When the process holding ``name`` took it (None: nobody holds it, or it cannot be told). PostgreSQL: when
    the holder's lock connection last changed state — it runs nothing after taking the lock. SQLite: the lock
    file's time, set as it was taken."""
    if engine.dialect.name == "postgresql":
        unsigned = _key(name) & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks shows a bigint key as two 32-bit halves
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT min(a.state_change) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid::bigint = :high AND l.objid::bigint = :low"),
                {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}).scalar()
    path = _lock_file(engine, name)
    if path is None or not path.exists():
        return None
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
