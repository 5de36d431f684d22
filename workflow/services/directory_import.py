"""``ssj import``: load a directory file into the database, all or nothing.

The file is streamed once: each row is checked (its cells, a key repeated, a
department not imported yet, a new row in a correction file that lacks required
columns), and while no problem has been seen the valid rows are written in
batches (``persistence.directory_writer``) inside the unit of work's one
transaction. The first problem stops the writing — checking goes on, to list
every problem — and the transaction commits only if there was none.

On PostgreSQL, enterprises and departments take another road to the same
result (``_load_staged``): every valid row streams into a staging table with
``COPY``, the repeated keys and (in a correction file) the new keys are found
by queries on it, and one statement merges it when there was no problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from workflow.audit import DIRECTORY_CHAIN, Entry
from workflow.directory import DIRECTORIES
from workflow.files.tabular import FileProblem, open_table
from workflow.importing import (MAX_PROBLEM_LINES, HeaderPlan, ImportRejected, Problem, Problems, parse_batch,
                                parse_row, read_header)
from workflow.persistence.directory_writer import DirectoryWriter, KeyRepeated
from workflow.persistence.statistics_refresh import DIRECTORY_TABLES, refresh_statistics
from workflow.services.identities import require_staff

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
    warnings: list[str] = field(default_factory=list)


def import_directory(uow, kind: str, path: str, *, full: bool) -> ImportReport:
    directory = DIRECTORIES[kind]
    problems = Problems(path)
    warnings: list[str] = []
    try:
        with open_table(path, directory.looks_like_header) as table:
            plan = read_header(directory, table.header, path, problems, warnings)
            with uow:
                require_staff(uow, f"导入{directory.label}")
                report = _load(uow, kind, plan, table, problems, full=full,
                               reread=lambda: open_table(path, directory.looks_like_header))
                if problems:
                    raise ImportRejected(problems, warnings)  # rolls the batches written so far back
    except FileProblem as exc:
        problems.add(Problem(None, 0, None, str(exc)))
        raise ImportRejected(problems, warnings) from None
    report.warnings = warnings
    refresh_statistics(uow.engine, DIRECTORY_TABLES[kind])  # committed: plans see the new directory
    return report


def _load(uow, kind: str, plan: HeaderPlan, table, problems: Problems, *, full: bool, reread) -> ImportReport:
    directory = DIRECTORIES[kind]
    report = ImportReport(kind, directory.label, table.path)
    writer = DirectoryWriter(uow.conn, kind, [col.alias for _, col, _ in plan.columns], path=table.path,
                             sha256=table.sha256, full=full, now=uow.now, user=uow.actor)
    if writer.copies and not any(col.references for _, col, _ in plan.columns):
        copied = None if plan.missing_required or not writer.is_empty() else _load_direct(writer, plan, table, report)
        if copied is False:
            with reread() as again:
                _load_staged(writer, plan, again, problems, report)
        elif copied is None:
            _load_staged(writer, plan, table, problems, report)
    else:
        _load_batches(writer, plan, table, problems, report)
    if problems:
        return report
    if full:
        report.marked_not_latest = writer.mark_not_latest()
    writer.finish(rows=report.rows, inserted=report.inserted, updated=report.updated,
                  marked_not_latest=report.marked_not_latest)
    uow.audit.append(DIRECTORY_CHAIN, [Entry("directory_import", uow.actor, uow.now, payload={
        "import_id": writer.import_id, "kind": kind, "path": table.path, "file_sha256": table.sha256, "full": full,
        "rows": report.rows, "inserted": report.inserted, "updated": report.updated,
        "marked_not_latest": report.marked_not_latest})])
    return report


def _batches(rows, size: int = 1000):
    """The rows a thousand at a time (the COPY lines are written a batch at a time)."""
    while batch := list(islice(rows, size)):
        yield batch


class _Refused(Exception):
    """A row with a problem, seen while copying straight into the table."""


def _load_direct(writer: DirectoryWriter, plan: HeaderPlan, table, report: ImportReport) -> bool | None:
    """A first import (the table empty, every required column there): the rows straight into the table with
    ``COPY`` (``DirectoryWriter.direct``). True when every row went in; False, nothing written, at the first
    row with a problem or when a key is repeated: the file is then read again through ``_load_staged``,
    which lists every problem (a refused file costs a second reading, a good one a single COPY); None
    when the file has no data row."""
    scratch = Problems(table.path)  # the staged reading finds these again, in their place among the rest
    try:
        with writer.direct() as lines:
            for batch in _batches(table.rows):
                parsed = parse_batch(plan, batch, scratch)
                if scratch:
                    raise _Refused
                lines.add_columns(parsed.numbers, parsed.columns)
                report.rows += len(parsed)
    except (_Refused, KeyRepeated):
        report.rows = 0
        return False
    if not report.rows:
        return None
    report.inserted = report.rows
    return True


def _load_staged(writer: DirectoryWriter, plan: HeaderPlan, table, problems: Problems, report: ImportReport) -> None:
    """Every valid row into the staging table (even after a problem: the repeats are found there), then the
    checks that need every key, as queries; merged only when there was no problem."""
    key_header, key_index = plan.header_of(plan.directory.key), plan.index_of(plan.directory.key)
    empty_at_start = writer.is_empty()
    with writer.stage() as lines:
        for batch in _batches(table.rows):
            parsed = parse_batch(plan, batch, problems)
            lines.add_columns(parsed.numbers, parsed.columns)
            report.rows += len(parsed)
    if not report.rows:
        if not problems:
            problems.add(Problem(None, 0, None, "文件没有数据行"))
        return
    repeats, repeated = writer.staged_repeats(MAX_PROBLEM_LINES)
    found = [Problem(number, key_index, key_header, f"“{key}”与第 {first} 行重复") for number, key, first in repeats]
    later = [(found, repeated)]
    if plan.missing_required:
        names = "、".join(f"“{c.header}”" for c in plan.missing_required)
        new, count = writer.staged_new(MAX_PROBLEM_LINES)
        later.append(([Problem(number, key_index, key_header,
                               f"“{key}”是新条目，但文件缺少必需的列 {names}（更正文件只能更新已有条目）")
                       for number, key in new], count))
    for found, count in later:
        problems.add_found_later(found, count)
    if not problems:
        report.inserted, report.updated = writer.merge_staged(
            empty_at_start=empty_at_start, updates_only=bool(plan.missing_required))


def _load_batches(writer: DirectoryWriter, plan: HeaderPlan, table, problems: Problems, report: ImportReport) -> None:
    directory = plan.directory
    known = {col.alias: writer.department_codes() for _, col, _ in plan.columns if col.references == "departments"}
    key_alias, key_header, key_index = directory.key, plan.header_of(directory.key), plan.index_of(directory.key)
    first_row: dict[str, int] = {}
    pending: list[tuple[int, dict[str, Any]]] = []
    empty_at_start = writer.is_empty()

    def settle() -> None:
        existing = set() if empty_at_start else writer.existing([r[key_alias] for _, r in pending])
        if plan.missing_required:
            names = "、".join(f"“{c.header}”" for c in plan.missing_required)
            for number, record in pending:
                if record[key_alias] not in existing:
                    problems.add(Problem(number, key_index, key_header,
                                         f"“{record[key_alias]}”是新条目，但文件缺少必需的列 {names}（更正文件只能更新已有条目）"))
        if not problems:
            inserted, updated = writer.write([r for _, r in pending], existing)
            report.inserted += inserted
            report.updated += updated
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
        unknown = [alias for alias, codes in known.items() if record.get(alias) is not None
                   and record[alias] not in codes]
        for alias in unknown:
            problems.add(Problem(number, plan.index_of(alias), plan.header_of(alias),
                                 f"“{record[alias]}”不是已导入的部门代码（请先导入部门名录）"))
        if unknown:
            continue
        pending.append((number, record))
        report.rows += 1
        if len(pending) >= BATCH:
            settle()
    if pending:
        settle()
    if not first_row and not problems:
        problems.add(Problem(None, 0, None, "文件没有数据行"))
