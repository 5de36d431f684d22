"""Writing a directory file's rows into its table, a batch at a time, inside the caller's transaction.

New rows go in by a ``Bulk`` insert (a province's first export is millions of
rows); known keys are updated touching only the columns the file has, so a
correction file with three columns does not blank the others; ``--full`` marks
the rows the export no longer lists. Which rows may be written is the importer's
rule (``services.directory_import``): this module only writes them.

On PostgreSQL a directory without a child list (enterprises, departments) is
written through a staging table instead (``DirectoryWriter.stage``): the rows
stream into it with ``COPY`` and one ``INSERT … SELECT … ON CONFLICT`` merges
them, in the caller's transaction; the checks that need every key (a key
repeated, a new key in a correction file) are queries on the staged rows, so
memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from psycopg.copy import QueuedLibpqWriter
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, String, Text, bindparam, delete, insert, select, update

from workflow.persistence import orm
from workflow.persistence.bulk import bulk_insert


class KeyRepeated(Exception):
    """``DirectoryWriter.direct`` met a key twice: nothing was written."""


@dataclass(frozen=True)
class _Target:
    """Where a directory's records go: the main table and its child list, if any."""

    table: Any
    key: str
    columns: dict[str, str]  # record alias -> table column
    child: tuple[Any, str, str] | None = None  # (table, parent key column, record alias)


_TARGETS = {
    "enterprises": _Target(
        orm.Enterprise.__table__,
        "uscc",
        {a: a for a in ("uscc", "name", "category", "kind", "registered_capital", "established_on", "status",
                        "district", "address", "legal_representative", "phone", "industry", "credit_risk")},
    ),
    "departments": _Target(
        orm.Department.__table__,
        "code",
        {a: a for a in ("code", "name", "admin_name", "admin_email", "leader_name", "leader_email",
                        "responsible_section", "contact_name", "contact_phone", "contact_email")},
    ),
    "officers": _Target(
        orm.Officer.__table__,
        "certificate_no",
        {"certificate_no": "certificate_no", "name": "name", "department": "department_code", "mobile": "mobile",
         "email": "email", "certificate_valid_until": "certificate_valid_until", "status": "status",
         "specialties": "specialties"},
        child=(orm.OfficerConflict.__table__, "certificate_no", "conflicts"),
    ),
    "items": _Target(
        orm.InspectionItem.__table__,
        "code",
        {"code": "code", "department": "department_code", "category": "category", "name": "name",
         "target": "target", "level": "level", "method": "method", "basis": "basis"},
        child=(orm.InspectionItemContent.__table__, "item_code", "contents"),
    ),
}


class DirectoryWriter:
    """One import of one directory file: its record in ``directory_imports``, then its rows, batch by batch.

    New rows skip SQLAlchemy's per-row processing (see ``persistence.bulk``); known keys are updated.
    """

    def __init__(self, conn: Connection, kind: str, present: list[str], *, path: str, sha256: str, full: bool,
                 now: datetime, user: str):
        target = _TARGETS[kind]
        import_id = conn.execute(insert(orm.DirectoryImport.__table__).values(
            kind=kind, path=path, file_sha256=sha256, full=full, rows=0, inserted=0, updated=0, marked_not_latest=0,
            imported_by=user, imported_at=now)).inserted_primary_key[0]
        t = target.table
        self.conn = conn
        self.target = target
        self.aliases = list(target.columns)
        self.key_alias = next(a for a, c in target.columns.items() if c == target.key)
        columns = [target.columns[a] for a in self.aliases]
        self.insert = bulk_insert(conn, t, columns, {"in_latest_directory": True, "last_import_id": import_id,
                                                     "created_at": now, "updated_at": now})
        changed = [target.columns[a] for a in present if a in target.columns and target.columns[a] != target.key]
        self.update_columns = changed + ["in_latest_directory", "last_import_id", "updated_at"]
        self.update_stmt = (
            update(t).where(t.c[target.key] == bindparam("v_key"))
            .values({c: bindparam(f"v_{c}") for c in self.update_columns})
        )
        self.present = present
        self.import_id = import_id
        self.now = now

    def _values(self, record: dict[str, Any]) -> list[Any]:
        """The record in column order; a list kept in one column (专长) is joined with ；."""
        values = [record.get(a) for a in self.aliases]
        return ["；".join(v) if isinstance(v, list) else v for v in values]

    def is_empty(self) -> bool:
        """A first import into an empty table needs no "which keys exist?" query per batch."""
        return self.conn.execute(select(self.target.table.c[self.target.key]).limit(1)).first() is None

    def existing(self, keys: list[str]) -> set[str]:
        column = self.target.table.c[self.target.key]
        return set(self.conn.execute(select(column).where(column.in_(bindparam("keys", expanding=True))),
                                     {"keys": keys}).scalars())

    def department_codes(self) -> set[str]:
        return set(self.conn.execute(select(orm.Department.code)).scalars())

    def write(self, batch: list[dict[str, Any]], existing: set[str]) -> tuple[int, int]:
        """Write a batch of records; returns (inserted, updated)."""
        conn = self.conn
        new_rows, changed_rows = [], []
        for record in batch:
            values = self._values(record)
            if record[self.key_alias] in existing:
                row = dict(zip((self.target.columns[a] for a in self.aliases), values))
                row.update(in_latest_directory=True, last_import_id=self.import_id, updated_at=self.now)
                changed = {f"v_{c}": row[c] for c in self.update_columns}
                changed["v_key"] = record[self.key_alias]
                changed_rows.append(changed)
            else:
                new_rows.append(values)
        if new_rows:
            self.insert.run(new_rows)
        if changed_rows:
            conn.execute(self.update_stmt, changed_rows)
        if self.target.child is not None:
            child_table, parent_col, alias = self.target.child
            if alias in self.present:
                keys = [r[self.key_alias] for r in batch]
                conn.execute(delete(child_table).where(child_table.c[parent_col].in_(bindparam("keys", expanding=True))),
                             {"keys": keys})
                children = _child_rows(alias, parent_col, batch, self.key_alias)
                if children:
                    conn.execute(insert(child_table), children)
        return len(new_rows), len(changed_rows)

    # --- PostgreSQL: COPY into a staging table, one merge -------------------------------------------------

    @property
    def copies(self) -> bool:
        """Whether this import goes through ``stage`` (PostgreSQL, no child list to rewrite)."""
        return self.conn.dialect.name == "postgresql" and self.target.child is None

    @contextmanager
    def stage(self) -> Iterator[_CopyLines]:
        """A temporary table shaped like the target's columns plus the file row number, dropped at commit or
        rollback; yields the lines (``_CopyLines.add``/``add_columns``) that stream records into it with
        ``COPY``. No other statement may run on the connection until the block ends."""
        t = self.target.table
        columns = [self.target.columns[a] for a in self.aliases]
        self.stage_name = f"ssj_stage_{t.name}"
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {self.stage_name} ON COMMIT DROP AS "
                                  f"SELECT {', '.join(columns)} FROM {t.name} WITH NO DATA")
        self.conn.exec_driver_sql(f"ALTER TABLE {self.stage_name} ADD COLUMN source_row integer NOT NULL")
        with self._copy(self.stage_name, [*columns, "source_row"], None) as lines:
            yield lines

    @contextmanager
    def direct(self) -> Iterator[_CopyLines]:
        """Into an empty table, the records straight into it with ``COPY`` (the import's constants on every
        row), in a savepoint: no staging table, no merge. A key repeated in the file fails the COPY at its
        end (``KeyRepeated``), an exception from the block stops it: either way nothing stays written, and
        the caller takes ``stage`` instead, which finds and places every repeat."""
        columns = [self.target.columns[a] for a in self.aliases]
        constants = ["in_latest_directory", "last_import_id", "created_at", "updated_at"]
        savepoint = self.conn.begin_nested()
        try:
            with self._copy(self.target.table.name, [*columns, *constants], self.insert.constants) as lines:
                yield lines
        except UniqueViolation:
            savepoint.rollback()
            raise KeyRepeated from None
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    @contextmanager
    def _copy(self, table: str, columns: list[str], constants) -> Iterator[_CopyLines]:
        """The COPY text lines built here (``_CopyLines``), written many at a time; a worker thread sends them
        (psycopg's ``QueuedLibpqWriter``) while the next rows are checked."""
        t = self.target.table
        lines = _CopyLines(self.aliases, [t.c[self.target.columns[a]] for a in self.aliases],
                           dict(self.insert.convert), constants)
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.connection.driver_connection.cursor() as cursor, \
                cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
            lines.write = copy.write
            yield lines
            lines.flush()

    def staged_repeats(self, limit: int) -> tuple[list[tuple[int, str, int]], int]:
        """Staged rows whose key an earlier row already had: (row, key, first row) for the first ``limit``
        in file order, and how many there are."""
        key, stage = self.target.key, self.stage_name
        found = self.conn.exec_driver_sql(
            f"WITH firsts AS (SELECT {key}, min(source_row) AS first_row FROM {stage} GROUP BY {key} "
            f"HAVING count(*) > 1) "
            f"SELECT s.source_row, s.{key}, f.first_row, count(*) OVER () FROM {stage} s JOIN firsts f USING ({key}) "
            f"WHERE s.source_row <> f.first_row ORDER BY s.source_row LIMIT %(limit)s", {"limit": limit}).all()
        return [(r[0], r[1], r[2]) for r in found], (found[0][3] if found else 0)

    def staged_new(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Staged keys the table does not have yet (each key's first row only): (row, key) for the first
        ``limit`` in file order, and how many there are."""
        key, stage, t = self.target.key, self.stage_name, self.target.table.name
        found = self.conn.exec_driver_sql(
            f"SELECT source_row, {key}, count(*) OVER () FROM (SELECT DISTINCT ON ({key}) source_row, {key} "
            f"FROM {stage} ORDER BY {key}, source_row) s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.{key} = s.{key}) "
            f"ORDER BY source_row LIMIT %(limit)s", {"limit": limit}).all()
        return [(r[0], r[1]) for r in found], (found[0][2] if found else 0)

    def merge_staged(self, *, empty_at_start: bool, updates_only: bool) -> tuple[int, int]:
        """The staged rows (keys already known to be unique) into the table: new keys inserted with every
        column, known keys updated in the file's columns only; returns (inserted, updated). ``updates_only``:
        every staged key is known (a correction file lacking required columns), so the rows are updated
        in place — an INSERT would be refused for its empty required columns before the conflict is seen."""
        t, key, stage = self.target.table, self.target.key, self.stage_name
        columns = [self.target.columns[a] for a in self.aliases]
        constants = ["in_latest_directory", "last_import_id", "created_at", "updated_at"]
        dialect = self.conn.dialect
        cast = {c: f"CAST(%({c})s AS {t.c[c].type.compile(dialect=dialect)})" for c in constants}
        params = dict(zip(constants, self.insert.constants))
        if updates_only:
            assignments = ", ".join(f"{c} = {cast[c] if c in cast else 's.' + c}" for c in self.update_columns)
            updated = self.conn.exec_driver_sql(
                f"UPDATE {t.name} SET {assignments} FROM {stage} s WHERE {t.name}.{key} = s.{key}", params).rowcount
            return 0, updated
        updated = 0 if empty_at_start else self.conn.exec_driver_sql(
            f"SELECT count(*) FROM {stage} s JOIN {t.name} USING ({key})").scalar_one()
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.update_columns)
        total = self.conn.exec_driver_sql(
            f"INSERT INTO {t.name} ({', '.join(columns + constants)}) "
            f"SELECT {', '.join(columns)}, {', '.join(cast.values())} FROM {stage} "
            f"ON CONFLICT ({key}) DO UPDATE SET {assignments}", params).rowcount
        return total - updated, updated

    def mark_not_latest(self) -> int:
        """``--full``: every row this import did not list is marked 不在最新名录; returns how many."""
        t = self.target.table
        return self.conn.execute(
            update(t).where((t.c.last_import_id != self.import_id) | t.c.last_import_id.is_(None))
            .where(t.c.in_latest_directory.is_(True)).values(in_latest_directory=False, updated_at=self.now)).rowcount

    def finish(self, *, rows: int, inserted: int, updated: int, marked_not_latest: int) -> None:
        """The import record's counts."""
        table = orm.DirectoryImport.__table__
        self.conn.execute(update(table).where(table.c.id == self.import_id).values(
            rows=rows, inserted=inserted, updated=updated, marked_not_latest=marked_not_latest))


def _child_rows(alias: str, parent_col: str, batch: list[dict[str, Any]], key_alias: str) -> list[dict[str, Any]]:
    out = []
    for record in batch:
        for position, value in enumerate(record.get(alias) or (), start=1):
            if alias == "conflicts":
                out.append({parent_col: record[key_alias], "uscc": value})
            else:
                out.append({parent_col: record[key_alias], "position": position, "text": value})
    return out


_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_FORMATTED_LIMIT = 16_384  # distinct values whose COPY text is remembered per column (dates, amounts repeat)


class _CopyLines:
    """Records as lines of COPY's text format (tab-separated, ``\\N`` for NULL, backslash escapes), sent
    ``_LINES_PER_WRITE`` at a time: cheaper than psycopg's ``write_row`` per row, which adapts every value.

    A text column's value is written as it is unless the line shows it must be escaped (a backslash, tab or
    line break in some value: counted against the markers the line itself holds), then the whole line is
    built again with every value escaped. Other values go through the column type's bind processor (as
    ``persistence.bulk`` does) and ``str`` (ISO dates, decimals), remembered per column by value (equal values
    of a typed column are stored alike: a Numeric column has a fixed scale)."""

    _LINES_PER_WRITE = 2000

    def __init__(self, aliases: list[str], columns: list[Any], processors: dict[int, Callable[[Any], Any]],
                 constants: tuple[Any, ...] | None):
        """``constants``: the (bind-processed) values that end every line, or None for the row number."""
        self.plan = [(alias, None if isinstance(column.type, (String, Text)) and i not in processors
                      else (processors.get(i), {})) for i, (alias, column) in enumerate(zip(aliases, columns))]
        self.tail = None if constants is None else "\t".join(
            "\\N" if v is None else _formatted(v, None, {}).translate(_COPY_ESCAPES) for v in constants)
        self.separators = len(aliases) + (0 if constants is None else len(constants) - 1)
        self.backslashes = 0 if constants is None else self.tail.count("\\")  # besides one per NULL
        self.pending: list[str] = []
        self.write: Callable[[str], None] | None = None

    def add(self, number: int, record: dict[str, Any]) -> None:
        get = record.get
        fields = []
        nulls = 0
        for alias, typed in self.plan:
            value = get(alias)
            if value is None:
                fields.append("\\N")
                nulls += 1
            elif typed is None:
                fields.append(value)
            else:
                formatted = typed[1].get(value)
                fields.append(formatted if formatted is not None else _formatted(value, *typed))
        fields.append(self.tail or str(number))
        try:
            line = "\t".join(fields)
        except TypeError:  # a list kept in one column (专长)
            line = self._escaped(number, record)
        if line.count("\\") != nulls + self.backslashes or line.count("\t") != self.separators \
                or "\n" in line or "\r" in line:
            line = self._escaped(number, record)
        pending = self.pending
        pending.append(line)
        if len(pending) >= self._LINES_PER_WRITE:
            self.flush()

    def add_columns(self, numbers: list[int], columns: dict[str, list[Any]]) -> None:
        """The rows given by column (``importing.Parsed``: their file row numbers, each file column's values
        by alias), a column at a time with C loops; a batch with a value to escape (or a list) is written row
        by row by ``add``."""
        n = len(numbers)
        if not n:
            return
        texts_by_column, nulls = [], 0
        for alias, typed in self.plan:
            values = columns.get(alias)
            if values is None:  # a column the file lacks
                values = [None] * n
            if None in values:
                nulls += values.count(None)
            if typed is None:
                texts_by_column.append([_NULL if v is None else v for v in values] if None in values else values)
                continue
            process, memo = typed
            texts = list(map(memo.get, values))
            if None in texts:
                texts = [t if t is not None else _NULL if v is None else _formatted(v, process, memo)
                         for t, v in zip(texts, values)]
            texts_by_column.append(texts)
        texts_by_column.append(repeat(self.tail, n) if self.tail else map(str, numbers))
        try:
            chunk = "\n".join(map("\t".join, zip(*texts_by_column)))
        except TypeError:  # a list kept in one column (专长)
            chunk = None
        if chunk is None or chunk.count("\\") != nulls + n * self.backslashes \
                or chunk.count("\t") != n * self.separators or chunk.count("\n") != n - 1 or "\r" in chunk:
            aliases = list(columns)
            for number, values in zip(numbers, zip(*columns.values())):
                self.add(number, dict(zip(aliases, values)))
            return
        self.flush()
        self.write(chunk + "\n")

    def _escaped(self, number: int, record: dict[str, Any]) -> str:
        fields = []
        for alias, typed in self.plan:
            value = record.get(alias)
            if value is None:
                fields.append("\\N")
            elif value.__class__ is list:
                fields.append("；".join(value).translate(_COPY_ESCAPES))
            else:
                fields.append((value if typed is None else _formatted(value, *typed)).translate(_COPY_ESCAPES))
        return "\t".join([*fields, self.tail or str(number)])

    def flush(self) -> None:
        if self.pending:
            self.pending.append("")
            self.write("\n".join(self.pending))
            self.pending.clear()


def _formatted(value: Any, process: Callable[[Any], Any] | None, memo: dict[Any, str]) -> str:
    """A typed value's COPY text: through the column's bind processor, then ``t``/``f`` or ``str``."""
    found = memo.get(value)
    if found is None:
        stored = process(value) if process is not None else value
        found = ("t" if stored else "f") if isinstance(stored, bool) else str(stored)
        if len(memo) < _FORMATTED_LIMIT:
            memo[value] = found
    return found
