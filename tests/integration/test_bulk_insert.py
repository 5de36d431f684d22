"""Bulk inserts of keyed rows (``bulk_insert(…, on_conflict=…)``): the same rows, count and order on both engines,
whether every key is new (on PostgreSQL a COPY straight into the table) or some are there already (a savepoint
undoes that COPY and the rows go through the staging table's merge), inside the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from workflow.persistence.bulk import COPY_ROWS, bulk_insert
from workflow.persistence.database import make_engine

_meta = MetaData()
PROBE = Table("bulk_probe", _meta, Column("id", Integer, primary_key=True, autoincrement=True),
              Column("key", String(40), nullable=False, unique=True), Column("n", Integer, nullable=False))
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
