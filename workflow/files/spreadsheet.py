"""Writing cells people open in Excel or WPS: text that looks like a formula stays text (XLSX and CSV)."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def put(sheet, row: int, column: int, value: Any):
    """Set a cell; a string that a spreadsheet would evaluate (=, +, -, @ …) is stored as quoted text."""
    cell = sheet.cell(row, column, value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def csv_safe(value: Any) -> Any:
    """A CSV cell Excel or WPS would evaluate gets a leading apostrophe (OWASP's advice); other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
