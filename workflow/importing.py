"""Turning a table of raw cells into directory records, with every problem placed.

FORMATS.md: one line per problem, ``<path>:<row>: <header as written>: <problem>``,
sorted, whole-file problems as ``<path>: <problem>``, and after 200 lines one
line counting the rest. Rows are checked in file order, so problems arrive
sorted and only the first 200 are kept: a million bad rows cost no memory.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from workflow.column_checks import MEMO_LIMIT, SHAREABLE, check_columns
from workflow.directory import Column, Directory, Invalid, normalise_header, too_long
from workflow.text_rules import any_control_character, control_character, visible

MAX_PROBLEM_LINES = 200


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: int
    header: str | None
    message: str

    def line(self, path: str) -> str:
        if self.row is None:
            return f"{path}: {self.message}"
        return f"{path}:{self.row}: {self.header}: {self.message}"


@dataclass
class Problems:
    """The first ``MAX_PROBLEM_LINES`` problems and a count of the rest."""

    path: str
    kept: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEM_LINES or problem.row is None:  # a whole-file problem is always listed
            self.kept.append(problem)

    def add_found_later(self, found: list[Problem], total: int) -> None:
        """Problems found after the rows were read (by a query over them), each the only problem of its row:
        ``found`` the first of them in row order, ``total`` how many. What is kept is what ``add`` would
        have kept had they arrived in row order."""
        if not total:
            return
        whole = [p for p in self.kept if p.row is None]
        rows = [p for p in self.kept if p.row is not None]
        merged = list(heapq.merge(rows, found, key=lambda p: p.row))  # stable: a row's own problems stay first
        self.kept = [*whole, *merged[:max(0, MAX_PROBLEM_LINES - len(whole))]]
        self.total += total

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        ordered = sorted(self.kept, key=lambda p: (p.row is not None, p.row or 0, p.column))
        out = [p.line(self.path) for p in ordered]
        if self.total > len(self.kept):
            out.append(f"{self.path}: 另有 {self.total - len(self.kept)} 个问题未列出")
        return out


@dataclass(frozen=True)
class UnreadableCell:
    """A spreadsheet cell that has something but no usable value (a formula never calculated, an error
    value); ``reason`` says which, and ``parse_row`` reports it instead of "必填项为空"."""

    reason: str

    def __str__(self) -> str:
        return ""


class ImportRejected(Exception):
    """A file refused for its content: nothing was written; ``problems`` say where and what."""

    def __init__(self, problems: Problems, warnings: list[str]):
        super().__init__(f"{problems.total} problem(s)")
        self.problems = problems
        self.warnings = warnings

    def lines(self) -> list[str]:
        """What ``ssj`` prints for it: the warnings, every problem (``<file>:<row>: <header>: …``), the verdict."""
        return [*self.warnings, *self.problems.lines(),
                f"导入被拒绝：共 {self.problems.total} 个问题，数据库未作任何更改。"]


@dataclass
class HeaderPlan:
    """Which file column feeds which directory column."""

    directory: Directory
    columns: list[tuple[int, Column, str]]
    unknown: list[str]
    absent_defaults: dict[str, Any] = field(default_factory=dict)
    # Required columns a correction file may leave out: then it can only update existing rows.
    missing_required: list[Column] = field(default_factory=list)
    cells: _Cells | None = field(default=None, init=False, repr=False, compare=False)  # compiled by parse_row

    def header_of(self, alias: str) -> str:
        for _, col, written in self.columns:
            if col.alias == alias:
                return written
        return self.directory.column(alias).header

    def index_of(self, alias: str) -> int:
        for idx, col, _ in self.columns:
            if col.alias == alias:
                return idx
        return 10_000


def plan_header(directory: Directory, cells: list[str], problems: Problems) -> HeaderPlan:
    columns: list[tuple[int, Column, str]] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for idx, cell in enumerate(cells):
        if not cell.strip():
            continue
        col = directory.match_header(cell)
        if col is None:
            unknown.append(cell.strip())
        elif col.alias in seen:
            problems.add(Problem(None, idx, None, f"列“{cell.strip()}”与列“{seen[col.alias]}”重复"))
        else:
            seen[col.alias] = cell.strip()
            columns.append((idx, col, cell.strip()))
    key = directory.column(directory.key)
    if key.alias not in seen:
        problems.add(Problem(None, 10_000, None, f"缺少必需的列“{key.header}”（或英文列名 {key.alias}）"))
    missing = [c for c in directory.columns if c.required and c.alias not in seen and c is not key]
    absent = {c.alias: c.default for c in directory.columns if c.alias not in seen and c.default is not None}
    return HeaderPlan(directory, columns, unknown, absent, missing)


def read_header(directory: Directory, cells: list[str], path: str, problems: Problems, warnings: list[str], *,
                all_required: bool = False) -> HeaderPlan:
    """A file's header planned against the directory's columns, unknown columns warned about once; with
    ``all_required`` (a file that only adds, never corrects) every required column must be there. A header
    with a problem refuses the file (ImportRejected)."""
    plan = plan_header(directory, cells, problems)
    ours = {normalise_header(h) for h in directory.informational}
    unknown = [u for u in plan.unknown if normalise_header(u) not in ours]
    if unknown:
        warnings.append(f"{path}: 警告：忽略未知的列 {'、'.join(f'“{visible(u)}”' for u in unknown)}")
    if all_required and plan.missing_required:
        names = "、".join(f"“{c.header}”" for c in plan.missing_required)
        problems.add(Problem(None, 0, None, f"缺少必需的列 {names}"))
    if problems:
        raise ImportRejected(problems, warnings)
    return plan


class _Cells:
    """A plan's columns compiled for ``parse_row``, which runs once a row (millions for a province).

    Each entry: (file index, header as written, alias, parser, text limit or None, required, default,
    multiline, memo). ``memo`` remembers, for a column other than the key, what its (pure) parser made of
    a stripped text cell, so a repeated status, category, date or amount is parsed once. Only values are
    remembered, never refusals: a refused cell is parsed, and reported, every time it occurs."""

    __slots__ = ("entries", "width", "aliases")

    def __init__(self, plan: HeaderPlan):
        key = plan.directory.key
        self.entries = [
            (idx, written, col.alias, col.parse, getattr(col.parse, "max_len", None), col.required, col.default,
             col.multiline, None if col.alias == key else {})
            for idx, col, written in plan.columns]
        self.width = max((idx for idx, _, _ in plan.columns), default=-1) + 1
        self.aliases = tuple(col.alias for _, col, _ in plan.columns)


def _compiled(plan: HeaderPlan) -> _Cells:
    if plan.cells is None:
        plan.cells = _Cells(plan)
    return plan.cells


def parse_row(plan: HeaderPlan, number: int, values: list[Any], problems: Problems) -> dict[str, Any] | None:
    """The record of one row, or None after adding its problems.

    Text is checked for control characters before anything else (``workflow.text_rules``): a refused
    character is never stripped away, parsed, nor quoted back in another message."""
    cells = _compiled(plan)
    record: dict[str, Any] = dict(plan.absent_defaults) if plan.absent_defaults else {}
    ok = True
    width = len(values)
    suspect = any_control_character(values)
    for idx, written, alias, parse, max_len, required, default, multiline, memo in cells.entries:
        value = values[idx] if idx < width else None
        if value.__class__ is str:
            if suspect:
                refused = control_character(value, multiline=multiline)
                if refused:
                    problems.add(Problem(number, idx, written, refused))
                    ok = False
                    continue
            value = value.strip()
            if not value:
                if required:
                    problems.add(Problem(number, idx, written, "必填项为空"))
                    ok = False
                record[alias] = default
                continue
            if max_len is not None:
                if len(value) > max_len:
                    problems.add(Problem(number, idx, written, too_long(len(value), max_len)))
                    ok = False
                else:
                    record[alias] = value
                continue
            if memo is not None:
                parsed = memo.get(value, memo)
                if parsed is memo:
                    try:
                        parsed = parse(value)
                    except Invalid as exc:
                        problems.add(Problem(number, idx, written, str(exc)))
                        ok = False
                        continue
                    if len(memo) < MEMO_LIMIT and parsed.__class__ in SHAREABLE:
                        memo[value] = parsed
                record[alias] = parsed
                continue
        elif value.__class__ is UnreadableCell:
            problems.add(Problem(number, idx, written, value.reason))
            ok = False
            continue
        elif value is None or value == "":
            if required:
                problems.add(Problem(number, idx, written, "必填项为空"))
                ok = False
            record[alias] = default
            continue
        try:
            record[alias] = parse(value)
        except Invalid as exc:
            problems.add(Problem(number, idx, written, str(exc)))
            ok = False
    if not ok:
        return None
    for rule in plan.directory.row_rules:
        broken = rule(record)
        if broken:
            alias, message = broken
            problems.add(Problem(number, plan.index_of(alias), plan.header_of(alias), message))
            return None
    return record


@dataclass
class Parsed:
    """A batch's valid rows: their numbers and, by alias, each file column's values (in row order); what a
    COPY writes without a record per row (``DirectoryWriter``'s lines take the columns as they are)."""

    numbers: list[int]
    columns: dict[str, list[Any]]
    defaults: dict[str, Any]  # the plan's values for columns the file lacks

    def __len__(self) -> int:
        return len(self.numbers)

    def records(self) -> list[dict[str, Any]]:
        aliases = list(self.columns)
        records = list(map(dict, map(zip, repeat(aliases), zip(*self.columns.values()))))
        return [{**self.defaults, **record} for record in records] if self.defaults else records


def parse_batch(plan: HeaderPlan, batch: list[tuple[int, list[Any]]], problems: Problems) -> Parsed:
    """``parse_row`` over a batch of rows: the valid ones, in order, each problem added.

    The batch is checked a column at a time first (``column_checks``), and a row rule reads only the rows its
    ``suspects`` names (all of them for a rule without it); the rows that check doubts are taken one by one,
    in row order, with those a rule refuses, so problems arrive as ``parse_row`` adds them."""
    cells = _compiled(plan)
    if not batch:
        return Parsed([], {alias: [] for alias in cells.aliases}, plan.absent_defaults)
    values, doubtful = check_columns(cells.entries, cells.width, [row for _, row in batch])
    columns = dict(zip(cells.aliases, values))
    defaults = plan.absent_defaults
    refused: dict[int, tuple[str, str]] = {}
    for rule in plan.directory.row_rules:
        suspects = rule.suspects(columns, len(batch)) if hasattr(rule, "suspects") else range(len(batch))
        for i in suspects:
            if i not in doubtful and i not in refused:
                broken = rule({**defaults, **{alias: column[i] for alias, column in columns.items()}})
                if broken:
                    refused[i] = broken
    if not doubtful and not refused:
        return Parsed([number for number, _ in batch], columns, defaults)
    kept: list[tuple[int, int | dict]] = []  # (row number, the row's index in the batch, or its record)
    for i, (number, row) in enumerate(batch):
        if i in doubtful:
            record = parse_row(plan, number, row, problems)
            if record is not None:
                kept.append((number, record))
        elif i in refused:
            alias, message = refused[i]
            problems.add(Problem(number, plan.index_of(alias), plan.header_of(alias), message))
        else:
            kept.append((number, i))
    return Parsed([number for number, _ in kept],
                  {alias: [column[at] if at.__class__ is int else at[alias] for _, at in kept]
                   for alias, column in columns.items()}, defaults)


def parse_rows(plan: HeaderPlan, batch: list[tuple[int, list[Any]]], problems: Problems) -> list[tuple[int, dict]]:
    """``parse_batch`` as (row number, record) pairs."""
    parsed = parse_batch(plan, batch, problems)
    return list(zip(parsed.numbers, parsed.records()))
