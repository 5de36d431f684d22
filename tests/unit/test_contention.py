"""Which database failures are contention, and how often a unit that lost one is run again."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import InterfaceError, OperationalError

from workflow.persistence.contention import ATTEMPTS, connection_lost, contended, retried


class _DriverError(Exception):
    """What psycopg raises: the message, and the SQLSTATE the server sent."""

    def __init__(self, message: str, sqlstate: str | None):
        super().__init__(message)
        self.sqlstate = sqlstate


def failure(message: str, sqlstate: str | None = None, *, invalidated: bool = False) -> OperationalError:
    return OperationalError("UPDATE tasks SET …", {}, _DriverError(message, sqlstate),
                            connection_invalidated=invalidated)


DEADLOCK = failure("deadlock detected", "40P01")


def test_deadlocks_serialization_failures_and_sqlite_locks_are_contention_not_a_lost_connection():
    for exc in (DEADLOCK, failure("could not serialize access", "40001"),
                OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))):
        assert contended(exc) and not connection_lost(exc)
    for exc in (failure("server closed the connection unexpectedly", invalidated=True),
                failure("terminating connection due to administrator command", "57P01"),
                InterfaceError("SELECT 1", {}, _DriverError("connection already closed", None))):
        assert connection_lost(exc) and not contended(exc)
    disk = failure("could not extend file: No space left on device", "53100")
    assert not contended(disk) and not connection_lost(disk)
    assert not contended(ValueError("deadlock detected"))


def test_contention_is_retried_a_bounded_number_of_times_with_a_growing_pause():
    tries, pauses = [], []

    def run():
        tries.append(1)
        if len(tries) < ATTEMPTS:
            raise DEADLOCK
        return "done"

    assert retried(run, pause=pauses.append) == "done"
    assert len(tries) == ATTEMPTS and len(pauses) == ATTEMPTS - 1
    assert 0.05 <= pauses[0] <= 0.15 and 0.1 <= pauses[1] <= 0.3

    def always():
        tries.append(1)
        raise DEADLOCK

    tries.clear()
    with pytest.raises(OperationalError):
        retried(always, pause=pauses.append)
    assert len(tries) == ATTEMPTS, "the last try's failure is raised as it came"


def test_a_unit_that_left_something_behind_or_failed_otherwise_is_not_run_again():
    tries = []

    def deadlocked():
        tries.append(1)
        raise DEADLOCK

    with pytest.raises(OperationalError):
        retried(deadlocked, redo_safe=lambda: False, pause=lambda _: None)
    assert len(tries) == 1, "it committed or printed something: not redone"

    def disk_full():
        tries.append(1)
        raise failure("No space left on device", "53100")

    tries.clear()
    with pytest.raises(OperationalError):
        retried(disk_full, pause=lambda _: None)
    assert len(tries) == 1
