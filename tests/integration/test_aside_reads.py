"""A screen's independent aggregates read beside each other (``UnitOfWork.aside``): on PostgreSQL on another
connection that imports the caller's snapshot, on SQLite at once in the caller's transaction. Either way the
read sees the database as the caller's transaction saw it when it asked — not a row committed in between."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from workflow.identity import SYSTEM
from workflow.persistence.database import make_engine
from workflow.services.uow import UnitOfWork

NOW = datetime(2019, 11, 27, 1, 0, tzinfo=timezone.utc)
COUNT = "SELECT count(*) FROM departments"


def _add_department(engine, code: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (code, name, in_latest_directory, created_at, updated_at) "
                          "VALUES (:code, '新部门', true, :now, :now)"), {"code": code, "now": NOW})


def test_an_aside_read_sees_the_snapshot_it_was_given_not_a_later_commit(loaded, db_url):
    engine, other = make_engine(db_url), make_engine(db_url)
    uow = UnitOfWork(engine, now=NOW, actor=SYSTEM, changes=False)
    go = threading.Event()
    try:
        with uow:
            before = uow.conn.exec_driver_sql(COUNT).scalar()
            assert before > 0

            def read(side):
                go.wait(10)  # until the other connection has committed its row
                return side.conn.exec_driver_sql(COUNT).scalar(), threading.current_thread().name

            counted = uow.aside(read)
            if db_url.startswith("postgresql"):  # SQLite ran it already; its one writer would wait for us
                _add_department(other, "NEW")
            go.set()
            seen, thread = counted.result(timeout=30)
            assert seen == before, "the aside read the caller's snapshot, not the row committed after it asked"
            if db_url.startswith("postgresql"):
                assert thread.startswith("ssj-aside"), "on PostgreSQL it ran on its own thread and connection"
                assert uow.conn.exec_driver_sql(COUNT).scalar() == before + 1, "the caller reads committed rows"
            else:
                assert thread == threading.current_thread().name, "on SQLite it ran at once, in the transaction"
    finally:
        engine.dispose()
        other.dispose()


def test_an_aside_reads_only_and_its_error_reaches_whoever_asks(loaded, db_url):
    engine = make_engine(db_url)
    uow = UnitOfWork(engine, now=NOW, actor=SYSTEM, changes=False)
    try:
        with uow:
            failed = uow.aside(lambda side: side.conn.exec_driver_sql("SELECT * FROM no_such_table").all())
            with pytest.raises(Exception, match="no_such_table"):
                failed.result(timeout=30)
        if db_url.startswith("postgresql"):
            with uow:
                write = uow.aside(lambda side: side.conn.exec_driver_sql("DELETE FROM departments").rowcount)
                with pytest.raises(Exception, match="只读"):
                    write.result(timeout=30)
            with engine.connect() as conn:
                assert conn.exec_driver_sql(COUNT).scalar() > 0
    finally:
        engine.dispose()


def test_asides_of_asides_run_in_their_reader_and_never_wait_on_each_other(loaded, db_url):
    """Two reads beside the caller, each asking for a read beside itself: with two threads for asides, a nested
    read queued behind its waiting parents would never run; it runs in its parent's transaction instead."""
    engine = make_engine(db_url)
    uow = UnitOfWork(engine, now=NOW, actor=SYSTEM, changes=False)

    def parent(side):
        return side.aside(lambda inner: inner.conn.exec_driver_sql(COUNT).scalar()).result(timeout=20)

    try:
        with uow:
            expected = uow.conn.exec_driver_sql(COUNT).scalar()
            first, second = uow.aside(parent), uow.aside(parent)
            assert first.result(timeout=30) == second.result(timeout=30) == expected
    finally:
        engine.dispose()
