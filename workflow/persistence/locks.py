"""A named lock held by one process at a time, released by the database or the OS if that process dies.

The tick's timeline steps (committing the officer draw, dispatching the forms)
write files and several transactions: two ticks at once must not both run them.
PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection
kept for the block. SQLite: ``flock`` on a file beside the database. Nobody
waits: whoever does not get the lock skips the step, which the holder is doing.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text


@contextmanager
def try_exclusive(engine: Engine, name: str) -> Iterator[bool]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(digest[:8], "big", signed=True)
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
    database = engine.url.database
    if not database or database == ":memory:":
        yield True  # one connection, one process: nobody to exclude
        return
    path = Path(database).with_name(f"{Path(database).name}.{digest[:8].hex()}.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
