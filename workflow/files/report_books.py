"""Workbooks for the office's reports: titled sheets, bordered tables, native Excel charts — printable on A4.

The charts are openpyxl's (Excel and WPS draw them, with their own fonts for the Chinese labels); each sits
under its table, so fitting the sheet to the page width never shrinks the table to fit a chart beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from workflow.files.atomic import write_atomically
from workflow.files.spreadsheet import (PAGE_UNITS, UNIT_PT, StyledRows, print_on_a4, wide_header, widths_of,
                                        wrapped_height)

_SIDE = Side(style="thin")
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_WRAP = Alignment(vertical="top", wrap_text=True)
# A4's printable height (0.75-inch top and bottom margins): portrait, landscape.
_PAGE_HEIGHT_PT = {False: 841.9 - 108, True: 595.3 - 108}
_PAGE_WIDTH_PT = {False: 595.3 - 72, True: 841.9 - 72}  # 0.5-inch margins left and right
SHEET_ROWS = 1_048_576  # Excel's and WPS's rows per sheet: a longer table goes on in the next sheet


@dataclass(frozen=True)
class Table:
    """A written table: its sheet, header row and number of data rows (for the charts)."""

    sheet: Any
    top: int
    count: int
    width: float  # the columns' total width, in Excel's units
    page: float  # the page's width at a legible scale, in the same units
    heights: tuple[float, ...] = ()  # each row's height in points, from row 1 (a chart below finds its page)


class ReportBook:
    """Written in openpyxl's write-only mode (a report's detail sheet has a row per task or answer, tens of thousands
    at province scale): each sheet's rows stream to the file as they are made, with the cells, styles, widths,
    heights and print settings the sheet-based helpers would give them."""

    def __init__(self) -> None:
        self.book = Workbook(write_only=True)

    def sheet(self, name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              notes: Sequence[str] = (), *, landscape: bool = False, most: float = 40):
        """A sheet printed on A4: the title and note lines across the table, then a bordered table whose header
        repeats on every page; columns as wide as their widest text (at most ``most``), wrapped to fit the page.
        A table longer than a sheet holds (a province's answers) goes on in sheets named ``name（续2）`` …, each
        with the title, notes and header again; the first sheet's table is returned (for its charts)."""
        room = SHEET_ROWS - (3 + len(notes))  # the title, the notes, the blank row and the header take the rest
        if len(rows) <= room:
            return self._sheet(name, title, headers, rows, notes, landscape=landscape, most=most)
        first = None
        for part, start in enumerate(range(0, len(rows), room), start=1):
            written = self._sheet(name if part == 1 else f"{name[:26]}（续{part}）",
                                  title if part == 1 else f"{title}（续{part}）", headers, rows[start:start + room],
                                  notes, landscape=landscape, most=most)
            first = first or written
        return first

    def _sheet(self, name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
               notes: Sequence[str], *, landscape: bool, most: float):
        sheet = self.book.create_sheet(name)
        orientation = "landscape" if landscape else "portrait"
        widths = widths_of(list(headers), rows, orientation, most=most)
        for c, width in enumerate(widths, start=1):  # before the first row: write-only writes the columns first
            sheet.column_dimensions[get_column_letter(c)].width = width
        last = get_column_letter(len(headers))
        top = 2 + len(notes) + 1
        for n in range(1, top - 1):
            sheet.merged_cells.add(f"A{n}:{last}{n}")
        sheet.freeze_panes = f"A{top + 1}"
        print_on_a4(sheet, orientation, title_rows=f"{top}:{top}")
        across = [sum(widths)]
        heights = []

        def add(rows_of: StyledRows, values: Sequence[Any], height: float) -> None:
            rows_of.row = len(heights)
            heights.append(height)
            rows_of.append(values, height)

        title_cell, note_cell = WriteOnlyCell(sheet), WriteOnlyCell(sheet)
        title_cell.font, title_cell.alignment, note_cell.alignment = Font(bold=True, size=14), _WRAP, _WRAP
        add(StyledRows(sheet, [title_cell]), [title], wrapped_height([title], across, size=14))
        lines = StyledRows(sheet, [note_cell])
        for note in notes:
            add(lines, [note], wrapped_height([note], across))
        add(lines, [], wrapped_height([], widths))
        header, box = WriteOnlyCell(sheet), WriteOnlyCell(sheet)
        header.font, header.border = Font(bold=True), _BOX
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        box.border, box.alignment = _BOX, _WRAP
        labels = [wide_header(h, widths[c]) for c, h in enumerate(headers)]
        add(StyledRows(sheet, [header] * len(headers)), labels, wrapped_height(labels, widths))
        boxed, memo = StyledRows(sheet, [box] * len(headers)), {}
        for values in rows:
            add(boxed, values, wrapped_height(values, widths, memo=memo))
        return Table(sheet, top, len(rows), sum(widths), PAGE_UNITS[orientation], tuple(heights))

    def bar_chart(self, table: Table, title: str, value_columns: Sequence[int], y_title: str = "") -> None:
        """Bars per table row (categories: column A), one series per value column, below the table."""
        self._chart(BarChart(), table, title, value_columns, y_title)

    def line_chart(self, table: Table, title: str, value_columns: Sequence[int], y_title: str = "") -> None:
        """Lines over the table's rows (categories: column A, e.g. days), one per value column, below the table."""
        self._chart(LineChart(), table, title, value_columns, y_title)

    @staticmethod
    def _chart(chart, table: Table, title: str, value_columns: Sequence[int], y_title: str) -> None:
        """The chart goes under the table, no wider than it, so the printed page keeps the table's scale."""
        if not table.count:
            return
        chart.title, chart.y_axis.title = title, y_title
        last = table.top + table.count
        for col in value_columns:
            chart.add_data(Reference(table.sheet, min_col=col, min_row=table.top, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(table.sheet, min_col=1, min_row=table.top + 1, max_row=last))
        units = min(table.page, max(table.width, 70)) - 2
        chart.height, chart.width = 9, units * UNIT_PT * 2.54 / 72
        table.sheet.add_chart(chart, f"A{last + 2}")
        above = sum(table.heights[:last]) + 15  # the table's rows and the empty one under it
        landscape = table.page == PAGE_UNITS["landscape"]
        scale = min(1.0, _PAGE_WIDTH_PT[landscape] / UNIT_PT / max(table.width, units))
        page = _PAGE_HEIGHT_PT[landscape] / scale
        if above % page + chart.height * 72 / 2.54 > page:  # the chart would be cut at the page's foot
            table.sheet.row_breaks.append(Break(id=last + 1))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.book.save)
