"""Workbooks for the office's reports: titled sheets, bordered tables, native Excel charts.

The charts are openpyxl's (Excel and WPS draw them, with their own fonts for the Chinese labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from workflow.files.atomic import write_atomically
from workflow.files.spreadsheet import put

_SIDE = Side(style="thin")
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)


@dataclass(frozen=True)
class Table:
    """A written table: its sheet, header row and number of data rows (for the charts)."""

    sheet: Any
    top: int
    count: int


class ReportBook:
    def __init__(self) -> None:
        self.book = Workbook()
        self._first = True

    def sheet(self, name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              widths: Sequence[int] | None = None, notes: Sequence[str] = ()):
        """A sheet: a bold title line, optional note lines, then a bordered table from row ``3 + len(notes)``."""
        sheet = self.book.active if self._first else self.book.create_sheet()
        self._first = False
        sheet.title = name
        sheet["A1"] = title
        sheet["A1"].font = Font(bold=True, size=14)
        for n, note in enumerate(notes, start=2):
            put(sheet, n, 1, note)
        top = 2 + len(notes) + 1
        for c, header in enumerate(headers, start=1):
            cell = sheet.cell(top, c, header)
            cell.font, cell.border = Font(bold=True), _BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            sheet.column_dimensions[get_column_letter(c)].width = (widths or [16] * len(headers))[c - 1]
        for r, row in enumerate(rows, start=top + 1):
            for c, value in enumerate(row, start=1):
                cell = put(sheet, r, c, value)
                cell.border = _BOX
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        sheet.freeze_panes = sheet.cell(top + 1, 1)
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        return Table(sheet, top, len(rows))

    def bar_chart(self, table: Table, title: str, value_columns: Sequence[int], anchor: str, y_title: str = "") -> None:
        """Bars per table row (categories: column A), one series per value column."""
        self._chart(BarChart(), table, title, value_columns, anchor, y_title, width=16)

    def line_chart(self, table: Table, title: str, value_columns: Sequence[int], anchor: str, y_title: str = "") -> None:
        """Lines over the table's rows (categories: column A, e.g. days), one per value column."""
        self._chart(LineChart(), table, title, value_columns, anchor, y_title, width=18)

    @staticmethod
    def _chart(chart, table: Table, title: str, value_columns: Sequence[int], anchor: str, y_title: str,
               width: int) -> None:
        if not table.count:
            return
        chart.title, chart.y_axis.title = title, y_title
        last = table.top + table.count
        for col in value_columns:
            chart.add_data(Reference(table.sheet, min_col=col, min_row=table.top, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(table.sheet, min_col=1, min_row=table.top + 1, max_row=last))
        chart.height, chart.width = 8, width
        table.sheet.add_chart(chart, anchor)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.book.save)
