"""Bulk writes straight to the DBAPI's ``executemany``, for the paths that move 100,000s of rows.

SQLAlchemy's per-row parameter processing costs more than SQLite's own work on
a batch. A ``Bulk`` statement is written once with the table's column names; its
values are converted by each column type's own bind processor (the ORM type's
storage rule: UTC instants, money …), looked up once — so what it stores is what
the ORM would have stored, on SQLite and PostgreSQL alike.

On PostgreSQL an INSERT of many rows (``bulk_insert``, at least ``COPY_ROWS``) goes
in with ``COPY`` instead (issue 19): straight into the table, or — when the INSERT
has an ``ON CONFLICT`` clause — into a temporary staging table that one
``INSERT … SELECT … ON CONFLICT`` merges, in the caller's transaction, in the
rows' order (ids ascend as they would have) — unless the rows are all new, which
a COPY straight into the table under a savepoint finds out first. Same rows, same
count returned. An UPDATE of many rows goes as one statement over arrays, one per
placeholder (``UPDATE … FROM unnest(…)``), instead of a statement per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import ARRAY, Column, ColumnElement, Connection, Table, any_, literal


COPY_ROWS = 200  # below this a pipelined executemany is as quick as setting up a COPY


class Bulk:
    def __init__(self, conn: Connection, sql: str, table: Table, params: Sequence[str], constants: Sequence[Any] = (),
                 *, copy_clause: str | None = None):
        """``sql`` uses ``?`` placeholders; ``params`` names the column each binds, the last
        ``len(constants)`` of them bound to the same values in every row (converted once).
        ``copy_clause``: ``sql`` is ``INSERT INTO table (params) VALUES (…)`` followed by this clause
        ("" or "ON CONFLICT …"), so on PostgreSQL it may go in by COPY."""
        dialect = conn.dialect
        self.conn = conn
        self.table = table
        self.params = tuple(params)
        self.copy_clause = copy_clause if dialect.name == "postgresql" else None
        self.sql = sql if dialect.paramstyle == "qmark" else sql.replace("?", "%s")
        self.arrays = _over_arrays(sql, table, params, dialect) if dialect.name == "postgresql" else None
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in params]
        variable = len(params) - len(constants)
        self.constants = tuple(f(v) if f is not None and v is not None else v
                               for f, v in zip(processors[variable:], constants))
        self.convert = [(i, f) for i, f in enumerate(processors[:variable]) if f is not None]

    def run(self, rows: Iterable[Sequence[Any]]) -> int:
        """Execute for every row (values in placeholder order); returns the rows affected."""
        convert, constants = self.convert, self.constants
        memo: dict[tuple[int, Any], Any] = {}  # a batch repeats values (one instant for all its moves)
        params = []
        for row in rows:
            if convert:
                row = list(row)
                for i, f in convert:
                    value = row[i]
                    if value is not None:
                        key = (i, value)
                        stored = memo.get(key)
                        if stored is None:
                            stored = memo[key] = f(value)
                        row[i] = stored
            params.append((*row, *constants))
        if not params:
            return 0
        if self.copy_clause is not None and len(params) >= COPY_ROWS:
            return self._copy(params)
        if self.arrays is not None and len(params) >= COPY_ROWS:
            return self.conn.exec_driver_sql(self.arrays, tuple(map(list, zip(*params)))).rowcount
        return self.conn.exec_driver_sql(self.sql, params).rowcount

    def _copy(self, params: list[tuple]) -> int:
        """The rows by COPY: into the table, or through a staging table merged by INSERT … SELECT with the
        clause. The staging table lives for the session, emptied before each use (many per transaction).
        Keyed rows are new rows most of the time (a draw's tasks): they are first COPYed straight in under a
        savepoint, and only a key already there (the COPY stops at it) sends them the staging way."""
        columns = ", ".join(self.params)
        driver = self.conn.connection.driver_connection
        with driver.cursor() as cursor:
            if not self.copy_clause:
                return self._straight(cursor, columns, params)
            cursor.execute("SAVEPOINT ssj_bulk")  # a key already there undoes only this COPY
            try:
                copied = self._straight(cursor, columns, params)
            except UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT ssj_bulk")
            else:
                cursor.execute("RELEASE SAVEPOINT ssj_bulk")
                return copied
            stage = f"ssj_bulk_{self.table.name}"
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT {columns}, 0::bigint AS ssj_order "
                           f"FROM {self.table.name} WITH NO DATA")
            cursor.execute(f"TRUNCATE {stage}")
            with cursor.copy(f"COPY {stage} ({columns}, ssj_order) FROM STDIN") as copy:
                for number, row in enumerate(params):
                    copy.write_row((*row, number))
            cursor.execute(f"INSERT INTO {self.table.name} ({columns}) SELECT {columns} FROM {stage} "
                           f"ORDER BY ssj_order {self.copy_clause}")
            return cursor.rowcount

    def _straight(self, cursor, columns: str, params: list[tuple]) -> int:
        with cursor.copy(f"COPY {self.table.name} ({columns}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        return len(params)


_SIZE = re.compile(r"\(\s*\d+(\s*,\s*\d+)?\s*\)")  # VARCHAR(18), NUMERIC(18, 6): the size of a type


def _over_arrays(sql: str, table: Table, params: Sequence[str], dialect) -> str | None:
    """``UPDATE t SET a = ? … WHERE b = ? …`` as one statement for many rows on PostgreSQL: each placeholder becomes
    a column of ``unnest`` over one array parameter of its column's type (None: not an UPDATE of that shape). The
    rows must name distinct target rows (each is updated once), as every caller's do."""
    head, found, where = sql.partition(" WHERE ")
    if not sql.startswith("UPDATE ") or not found:
        return None
    slots = iter(range(len(params)))
    head, where = (re.sub(r"\?", lambda _: f"v.p{next(slots)}", part) for part in (head, where))
    # Each array of its column's base type: an explicit cast to VARCHAR(18)[] would cut a longer value short
    # silently, where the row-by-row statement refused it.
    types = [_SIZE.sub("", table.c[name].type.compile(dialect=dialect)) for name in params]
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    names = ", ".join(f"p{i}" for i in range(len(params)))
    return f"{head} FROM unnest({arrays}) AS v({names}) WHERE {where}"


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], constants: dict[str, Any] | None = None,
                *, on_conflict: str = "") -> Bulk:
    """INSERT of ``columns`` per row, plus ``constants`` (column → value) the same in every row;
    ``on_conflict``: the clause that follows, e.g. "ON CONFLICT (key) DO NOTHING"."""
    constants = constants or {}
    names = [*columns, *constants]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) {on_conflict}"
    return Bulk(conn, sql.rstrip(), table, names, tuple(constants.values()), copy_clause=on_conflict)


def among(conn: Connection, column: Column, ids: Sequence) -> ColumnElement[bool]:
    """``column`` is one of ``ids``: on PostgreSQL as one array parameter of the column's type (one statement to
    parse however many: a sweep claims and a digest marks tens of thousands), elsewhere as an ``IN`` list (keep it to
    ``PART`` or so: ``parts``)."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(column.type)))
    return column.in_(ids)


PART = 900  # SQLite's bound parameters per statement stay well under its limit


def parts(conn: Connection, values: Sequence) -> Iterator[list]:
    """``values`` in the pieces an ``among`` takes: all at once on PostgreSQL, ``PART`` at a time elsewhere."""
    size = len(values) or 1 if conn.dialect.name == "postgresql" else PART
    for start in range(0, len(values), size):
        yield list(values[start:start + size])
