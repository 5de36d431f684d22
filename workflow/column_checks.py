"""Checking a batch of rows a column at a time: the import's fast road (issue 19).

``importing.parse_row`` takes a row at a time and a cell at a time, in Python: at a province's 3,000,000
rows that loop is most of an import. Here the same rules run over a batch's columns with loops in C — a
column stripped by one ``map``, checked by one ``isprintable`` and one ``max(len)``, its remembered values
looked up all at once, a whole column given to its parser's ``many`` (``directory.uscc``, ``directory.phone``)
— and they decide only which rows are certainly good. Every other row (a cell empty where it is required,
too long, refused, not text, a value its parser doubts) is handed back to ``parse_row``, which finds and
words its problems exactly as before: this road never reports a problem, it only skips the work for rows
that have none.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any

from workflow.directory import Invalid

# A parsed value reused for an equal cell further down: only types nobody can change in place.
SHAREABLE = frozenset({str, int, float, bool, Decimal, date, datetime, type(None)})
MEMO_LIMIT = 16_384  # distinct cells remembered per column: a status or a date repeats, a phone number rarely

_MISSING = object()


def check_columns(entries: list[tuple], width: int, rows: list[list[Any]]) -> tuple[list[list[Any]], set[int]]:
    """Each column's values over ``rows`` (in ``entries`` order, as ``importing._Cells`` compiles them), and
    the indexes of the rows to parse one by one instead: their values here mean nothing."""
    doubtful: set[int] = set()
    if min(map(len, rows)) < width:
        rows = _padded(rows, width, doubtful)
    columns = []
    for idx, _written, _alias, parse, max_len, required, default, _multiline, memo in entries:
        raw = list(map(itemgetter(idx), rows))
        try:
            joined = "".join(raw)
        except TypeError:  # a spreadsheet's empty cells, numbers and dates
            raw = _texts_only(raw, doubtful)
            joined = "".join(raw)
        if not joined.isprintable():  # a character some column refuses, or a full-width space to strip
            raw = [text if text.isprintable() else _doubt(doubtful, i) for i, text in enumerate(raw)]
        texts = list(map(str.strip, raw))
        if max_len is not None:
            if max(map(len, texts)) > max_len:
                texts = [text if len(text) <= max_len else _doubt(doubtful, i) for i, text in enumerate(texts)]
            if "" in texts:
                texts = [text if text else _blank(doubtful, i, required, default) for i, text in enumerate(texts)]
            columns.append(texts)
        else:
            columns.append(_parsed(texts, parse, required, default, memo, doubtful))
    return columns, doubtful


def _parsed(texts: list[str], parse, required: bool, default: Any, memo: dict | None, doubtful: set[int]) -> list:
    """A parsed column: remembered values first, then the parser's ``many`` over the rest, else one by one."""
    values = list(map(memo.get, texts, repeat(_MISSING))) if memo is not None else [_MISSING] * len(texts)
    if _MISSING not in values:
        return values
    misses = []
    for i, value in enumerate(values):
        if value is _MISSING:
            if texts[i]:
                misses.append(i)
            else:
                values[i] = _blank(doubtful, i, required, default)
    many = getattr(parse, "many", None)
    found = many([texts[i] for i in misses]) if many is not None and misses else None
    for n, i in enumerate(misses):
        text = texts[i]
        if found is not None:
            value = found[n]
        else:
            try:
                value = parse(text)
            except Invalid:
                values[i] = _doubt(doubtful, i)
                continue
        values[i] = value
        if memo is not None and len(memo) < MEMO_LIMIT and value.__class__ in SHAREABLE:
            memo[text] = value
    return values


def _doubt(doubtful: set[int], i: int) -> str:
    doubtful.add(i)
    return ""


def _blank(doubtful: set[int], i: int, required: bool, default: Any) -> Any:
    """An empty cell's value: the column's default, or a doubt when the column is required."""
    if required:
        doubtful.add(i)
    return default


def _texts_only(raw: list[Any], doubtful: set[int]) -> list[str]:
    """A column of mixed cells as text: an empty cell as "" (``parse_row`` treats both alike), anything else
    not text left to ``parse_row``."""
    out = []
    for i, value in enumerate(raw):
        if value.__class__ is str:
            out.append(value)
        elif value is None:
            out.append("")
        else:
            out.append(_doubt(doubtful, i))
    return out


def _padded(rows: list[list[Any]], width: int, doubtful: set[int]) -> list[list[Any]]:
    """Short rows (a CSV line with fewer cells) padded with empty cells and left to ``parse_row``."""
    out = []
    for i, row in enumerate(rows):
        if len(row) < width:
            doubtful.add(i)
            row = [*row, *repeat("", width - len(row))]
        out.append(row)
    return out
