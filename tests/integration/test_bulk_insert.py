"""Bulk inserts of keyed rows (``bulk_insert(…, on_conflict=…)``): the same rows, count and order on both engines,
whether every key is new (on PostgreSQL a COPY straight into the table) or some are there already (a savepoint
undoes that COPY and the rows go through the staging table's merge), inside the caller's transaction. Bulk
compare-and-set UPDATEs (one statement over arrays on PostgreSQL): the rows still as read are written, and counted."""

from __future__ import annotations

import pytest
from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from calendars import BEIJING
from workflow.persistence.bulk import COPY_ROWS, Bulk, bulk_insert
from workflow.persistence.database import make_engine
from workflow.persistence.types import UTCDateTime

_meta = MetaData()
PROBE = Table("bulk_probe", _meta, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("key", String(40), nullable=False, unique=True), Column("n", Integer, nullable=False),
              Column("at", UTCDateTime, nullable=True))
ROWS = COPY_ROWS + 100  # enough for COPY on PostgreSQL


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    _meta.create_all(engine)
    yield engine
    engine.dispose()


def _insert(conn, rows) -> int:
    return bulk_insert(conn, PROBE, ("key", "n"), on_conflict="ON CONFLICT (key) DO NOTHING").run(rows)


def _stored(engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(PROBE.c.key, PROBE.c.n).order_by(PROBE.c.id))]


def test_new_keys_go_in_in_order(engine):
    rows = [(f"k{n:04d}", n) for n in reversed(range(ROWS))]
    with engine.begin() as conn:
        assert _insert(conn, rows) == ROWS
    assert _stored(engine) == rows, "every row, ids ascending in the rows' order"


def test_keys_already_there_are_left_and_the_rest_go_in(engine):
    with engine.begin() as conn:
        _insert(conn, [(f"k{n:04d}", n) for n in range(0, ROWS, 2)])
    again = [(f"k{n:04d}", -n) for n in range(ROWS)] + [("k0001", -99999)]  # old and new keys, and one twice
    with engine.begin() as conn:
        conn.execute(PROBE.insert().values(key="before", n=0))  # written earlier in the same transaction
        assert _insert(conn, again) == ROWS // 2
    stored = _stored(engine)
    assert stored[:ROWS // 2] == [(f"k{n:04d}", n) for n in range(0, ROWS, 2)], "rows already there untouched"
    assert stored[ROWS // 2] == ("before", 0), "the transaction's earlier write kept"
    assert stored[ROWS // 2 + 1:] == [(f"k{n:04d}", -n) for n in range(1, ROWS, 2)], "new keys once, in order"


def test_nothing_stays_when_the_transaction_fails(engine):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _insert(conn, [(f"k{n:04d}", n) for n in range(ROWS)])
        raise RuntimeError("a later step refused")
    assert _stored(engine) == []


def test_a_compare_and_set_update_writes_the_rows_still_as_read_and_counts_them(engine):
    with engine.begin() as conn:
        _insert(conn, [(f"k{n:04d}", n) for n in range(ROWS)])
    with engine.connect() as conn:
        ids = conn.execute(select(PROBE.c.id).order_by(PROBE.c.id)).scalars().all()
    at = datetime(2019, 11, 29, 9, 0, tzinfo=BEIJING)
    # every row moved from the n read to -n at an instant; every third was read at a stale n and stays as it is
    moved = [(-n, None if n % 5 == 0 else at + timedelta(minutes=n), ids[n], n if n % 3 else n + 1)
             for n in range(ROWS)]
    with engine.begin() as conn:
        statement = Bulk(conn, "UPDATE bulk_probe SET n = ?, at = ? WHERE id = ? AND n = ?", PROBE,
                         ("n", "at", "id", "n"))
        assert statement.arrays is not None or engine.dialect.name != "postgresql", "one statement over arrays"
        assert statement.run(moved) == sum(1 for n in range(ROWS) if n % 3)
    with engine.connect() as conn:
        stored = conn.execute(select(PROBE.c.n, PROBE.c.at).order_by(PROBE.c.id)).all()
    for n, (value, instant) in enumerate(stored):
        if n % 3:
            assert value == -n
            assert instant == (None if n % 5 == 0 else (at + timedelta(minutes=n)).astimezone(timezone.utc))
        else:
            assert (value, instant) == (n, None), "a row read at another value is left alone"
