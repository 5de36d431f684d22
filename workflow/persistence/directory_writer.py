"""Writing a directory file into its table, streamed in batches inside the caller's transaction.

While no problem has been seen the valid rows are written in batches; the first
problem stops the writing (checking goes on, to list every problem); the caller
commits only if there was none. Re-imports update by key and touch only the
columns the file has, so a correction file with three columns does not blank the
others. ``--full`` marks rows the export no longer lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from workflow.audit import DIRECTORY_CHAIN, Entry
from workflow.directory import Directory
from workflow.files.tabular import Table
from workflow.importing import HeaderPlan, Problem, Problems, parse_row
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.bulk import bulk_insert

BATCH = 5000


@dataclass
class ImportReport:
    kind: str
    label: str
    path: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    marked_not_latest: int = 0
    import_id: int | None = None
    warnings: list[str] = field(default_factory=list)


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


def load_directory(conn: Connection, directory: Directory, plan: HeaderPlan, table: Table, problems: Problems, *,
                   full: bool, now: datetime, user: str) -> ImportReport:
    path = table.path
    target = _TARGETS[directory.kind]
    report = ImportReport(directory.kind, directory.label, path)
    import_id = conn.execute(
        insert(orm.DirectoryImport.__table__).values(
            kind=directory.kind, path=path, file_sha256=table.sha256, full=full, rows=0, inserted=0,
            updated=0, marked_not_latest=0, imported_by=user, imported_at=now,
        )
    ).inserted_primary_key[0]
    report.import_id = import_id

    present = [a for _, col, _ in plan.columns for a in [col.alias]]
    references = _reference_sets(conn, plan)
    key_alias = directory.key
    key_header = plan.header_of(key_alias)
    key_index = plan.index_of(key_alias)
    first_row: dict[str, int] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    writer = _Writer(conn, target, present, import_id, now)

    # A first import into an empty table needs no "which keys exist?" query per batch.
    empty_at_start = conn.execute(select(target.table.c[target.key]).limit(1)).first() is None

    def settle() -> None:
        existing = set() if empty_at_start else _existing_keys(conn, target, [r[key_alias] for _, r in pending])
        if plan.missing_required:
            names = "、".join(f"“{c.header}”" for c in plan.missing_required)
            for number, record in pending:
                if record[key_alias] not in existing:
                    problems.add(Problem(number, key_index, key_header,
                                         f"“{record[key_alias]}”是新条目，但文件缺少必需的列 {names}（更正文件只能更新已有条目）"))
        if not problems:
            writer.write(conn, [r for _, r in pending], existing, report)
        pending.clear()

    for number, values in table.rows:
        record = parse_row(plan, number, values, problems)
        if record is None:
            continue
        key = record[key_alias]
        seen = first_row.get(key)
        if seen is not None:
            problems.add(Problem(number, key_index, key_header, f"“{key}”与第 {seen} 行重复"))
            continue
        first_row[key] = number
        broken = False
        for alias, known in references.items():
            value = record.get(alias)
            if value is not None and value not in known:
                problems.add(Problem(number, plan.index_of(alias), plan.header_of(alias),
                                     f"“{value}”不是已导入的部门代码（请先导入部门名录）"))
                broken = True
        if broken:
            continue
        pending.append((number, record))
        report.rows += 1
        if len(pending) >= BATCH:
            settle()
    if pending:
        settle()
    if problems:
        return report
    if not first_row:
        problems.add(Problem(None, 0, None, "文件没有数据行"))
        return report
    if full:
        t = target.table
        result = conn.execute(
            update(t)
            .where((t.c.last_import_id != import_id) | t.c.last_import_id.is_(None))
            .where(t.c.in_latest_directory.is_(True))
            .values(in_latest_directory=False, updated_at=now)
        )
        report.marked_not_latest = result.rowcount
    conn.execute(
        update(orm.DirectoryImport.__table__)
        .where(orm.DirectoryImport.__table__.c.id == import_id)
        .values(rows=report.rows, inserted=report.inserted, updated=report.updated,
                marked_not_latest=report.marked_not_latest)
    )
    AuditLog(conn).append(DIRECTORY_CHAIN, [Entry("directory_import", user, now, payload={
        "import_id": import_id, "kind": directory.kind, "path": path, "file_sha256": table.sha256, "full": full,
        "rows": report.rows, "inserted": report.inserted, "updated": report.updated,
        "marked_not_latest": report.marked_not_latest,
    })])
    return report


def _reference_sets(conn, plan: HeaderPlan) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for _, col, _ in plan.columns:
        if col.references == "departments":
            out[col.alias] = set(conn.execute(select(orm.Department.code)).scalars())
    return out


class _Writer:
    """Writes a batch: new rows by a ``Bulk`` insert, known keys by UPDATE.

    New rows are the bulk of any first import (a million for a province's
    export), so they skip SQLAlchemy's per-row processing (see ``persistence.bulk``).
    """

    def __init__(self, conn, target: _Target, present: list[str], import_id: int, now: datetime):
        t = target.table
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

    def write(self, conn, batch: list[dict[str, Any]], existing: set[str], report: ImportReport) -> None:
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
        report.updated += len(changed_rows)
        report.inserted += len(new_rows)
        if self.target.child is not None:
            child_table, parent_col, alias = self.target.child
            if alias in self.present:
                keys = [r[self.key_alias] for r in batch]
                conn.execute(delete(child_table).where(child_table.c[parent_col].in_(bindparam("keys", expanding=True))),
                             {"keys": keys})
                children = _child_rows(alias, parent_col, batch, self.key_alias)
                if children:
                    conn.execute(insert(child_table), children)


def _existing_keys(conn, target: _Target, keys: list[str]) -> set[str]:
    column = target.table.c[target.key]
    return set(conn.execute(select(column).where(column.in_(bindparam("keys", expanding=True))), {"keys": keys}).scalars())


def _child_rows(alias: str, parent_col: str, batch: list[dict[str, Any]], key_alias: str) -> list[dict[str, Any]]:
    out = []
    for record in batch:
        for position, value in enumerate(record.get(alias) or (), start=1):
            if alias == "conflicts":
                out.append({parent_col: record[key_alias], "uscc": value})
            else:
                out.append({parent_col: record[key_alias], "position": position, "text": value})
    return out
