"""Bulk writes straight to the DBAPI's ``executemany``, for the paths that move 100,000s of rows.

SQLAlchemy's per-row parameter processing costs more than SQLite's own work on
a batch. A ``Bulk`` statement is written once with the table's column names; its
values are converted by each column type's own bind processor (the ORM type's
storage rule: UTC instants, money …), looked up once — so what it stores is what
the ORM would have stored, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table


class Bulk:
    def __init__(self, conn: Connection, sql: str, table: Table, params: Sequence[str], constants: Sequence[Any] = ()):
        """``sql`` uses ``?`` placeholders; ``params`` names the column each binds, the last
        ``len(constants)`` of them bound to the same values in every row (converted once)."""
        dialect = conn.dialect
        self.conn = conn
        self.sql = sql if dialect.paramstyle == "qmark" else sql.replace("?", "%s")
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
        return self.conn.exec_driver_sql(self.sql, params).rowcount


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], constants: dict[str, Any] | None = None) -> Bulk:
    """INSERT of ``columns`` per row, plus ``constants`` (column → value) the same in every row."""
    constants = constants or {}
    names = [*columns, *constants]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    return Bulk(conn, sql, table, names, tuple(constants.values()))
