"""What a failed database call means: contention (redo it), a lost connection, or anything else.

PostgreSQL ends a deadlock by failing one of the transactions in it (SQLSTATE
40P01) and may fail a transaction it cannot serialise (40001); SQLite says
"database is locked" when its busy timeout runs out. In each case the failed
transaction was rolled back whole, so a unit of work that did nothing else —
committed nothing, sent nothing, printed nothing — may simply be run again:
``retried`` does that a bounded number of times, with a short jittered pause,
before the failure reaches anyone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError

T = TypeVar("T")

ATTEMPTS = 3  # the first try and two more
CONTENTION_STATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
LOST_STATES = {"57P01", "57P02", "57P03"}  # the server shut down or restarted under the connection


def _sqlstate(exc: BaseException) -> str:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) or ""


def contended(exc: BaseException) -> bool:
    """A deadlock or serialisation failure (PostgreSQL), or SQLite's write lock not obtained in time."""
    if not isinstance(exc, DBAPIError):
        return False
    if _sqlstate(exc) in CONTENTION_STATES:
        return True
    return "database is locked" in str(getattr(exc, "orig", "") or "")


def connection_lost(exc: BaseException) -> bool:
    """The connection to the server went away (or could not be used): not something the command did."""
    if not isinstance(exc, DBAPIError):
        return False
    state = _sqlstate(exc)
    return (exc.connection_invalidated or isinstance(exc, InterfaceError) or state.startswith("08")
            or state in LOST_STATES)


def retried(run: Callable[[], T], *, redo_safe: Callable[[], bool] = lambda: True, attempts: int = ATTEMPTS,
            pause: Callable[[float], None] = time.sleep) -> T:
    """``run()``, run again when it fails on contention and ``redo_safe()`` says the failed try left nothing behind.

    Pauses 50–150 ms before the second try and twice that before the third, so the
    transactions that collided do not collide again in step. Any other failure, or
    contention on the last try, is raised as it came.
    """
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except DBAPIError as exc:
            if attempt == attempts or not contended(exc) or not redo_safe():
                raise
        pause(random.uniform(0.05, 0.15) * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover
