"""Writing cells people open in Excel or WPS: text that looks like a formula stays text (XLSX and CSV), and
sheets that print on A4 at a size people can read (widths from the widest text, heights for wrapped lines).

Large lists (a department's dispatch list at province scale) are written in openpyxl's write-only mode: rows
streamed, each cell a ``WriteOnlyCell`` taking its column's style (``StyledRows``), widths and heights computed from
the rows themselves (``widths_of``, ``wrapped_height``) — the same numbers the sheet-based helpers set."""

from __future__ import annotations

import re

from functools import lru_cache, partial
from math import ceil
from collections.abc import Sequence
from typing import Any
from unicodedata import east_asian_width

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

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


# Paper. Column widths are in Excel's units (one '0' of the 11 pt body font, about 5.25 pt); a Chinese
# character is about two of them. A4 less 0.5-inch margins is 523 pt wide (portrait) or 770 pt (landscape);
# fitted to the page width, a sheet of at most these many units keeps 11 pt text at 9 pt or more.
UNIT_PT = 5.25
BODY_PT = 11
MIN_PRINTED_PT = 9
MARGIN_INCHES = 0.5
PAGE_UNITS = {"portrait": 116, "landscape": 172}


def text_width(value: Any) -> int:
    """The widest line of a cell's text in column-width units: a CJK or full-width character counts two."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else str(value)
    if "\n" not in text:
        return _line_width(text)
    return max(map(_line_width, text.split("\n")))


class _CharWidths(dict):
    """Each character's width, looked up once (a list of 100,000 names measures millions of characters)."""

    def __missing__(self, ch: str) -> int:
        width = self[ch] = 2 if east_asian_width(ch) in "WF" else 1
        return width


_CHAR_WIDTHS = _CharWidths()


@lru_cache(maxsize=65536)
def _line_width(line: str) -> int:
    """Lists repeat their texts (a department's items on every row): each line is measured once."""
    return len(line) if line.isascii() else sum(map(_CHAR_WIDTHS.__getitem__, line))


def lines_needed(value: Any, width: float) -> int:
    """How many lines a wrapped cell of ``width`` units takes (one unit of it is padding)."""
    if value is None or value == "":
        return 1
    text = value if isinstance(value, str) else f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else str(value)
    room = max(1.0, width - 1.5)
    if "\n" not in text:
        return max(1, ceil(_line_width(text) / room))
    return sum(max(1, ceil(text_width(line) / room)) for line in text.split("\n"))


def line_height(size: float = BODY_PT) -> float:
    """Points a wrapped line takes (CJK fonts stand taller than Latin ones)."""
    return round(size * 1.35, 1)


def wide_header(label: str, width: float) -> str:
    """A header that wraps before its unit — ``发现问题企业\\n（户）`` — never leaving a bracket alone on a line."""
    if "（" in label and not label.startswith("（") and text_width(label) > width - 1.5:
        head, _, unit = label.partition("（")
        return f"{head}\n（{unit}"
    return label


def fit_widths(wanted: list[float], orientation: str, minimum: float = 6, keep: float = 22) -> list[float]:
    """Column widths that fit the page at a legible scale: the widest columns give way first (their text wraps);
    a column of up to ``keep`` units — a credit code, a date — keeps its width while a wider one can give."""
    widths = [max(minimum, w) for w in wanted]
    floors = [min(w, keep) for w in widths]
    budget = PAGE_UNITS[orientation]
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= floors[widest]:
            floors = [minimum] * len(widths)  # nothing wide left: every column gives way
            if all(w <= minimum for w in widths):
                break
            continue
        widths[widest] -= 1
    return widths


def column_widths(sheet, headers: list[str], rows, orientation: str, *, most: float = 40) -> list[float]:
    """Widths from the widest text of each column (headers may wrap at their unit), fitted to the page and set."""
    widths = widths_of(headers, rows, orientation, most=most)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    return widths


def widths_of(headers: list[str], rows, orientation: str, *, most: float = 40,
              measured: dict | None = None) -> list[float]:
    """``column_widths``' widths without a sheet (a write-only sheet takes them before its first row).
    ``measured``: text widths kept across calls (lists of the same enterprises measure each name once)."""
    measured = {} if measured is None else measured
    wanted = [max(4.0, text_width(header) if text_width(header) <= 12 else
                  max(text_width(part) for part in header.replace("（", "\n（").split("\n"))) + 2
              for header in headers]
    for c in range(len(wanted)):  # each column's distinct values measured once (lists repeat names, dates, words)
        widest = 0
        for value in {row[c] for row in rows if len(row) > c}:
            if type(value) is str:
                width = measured.get(value)
                if width is None:
                    width = measured[value] = text_width(value)
            else:
                width = text_width(value)
            widest = max(widest, width)
        if rows:
            wanted[c] = max(wanted[c], min(most, widest + 2))
    return fit_widths(wanted, orientation)


def wrapped_height(values, widths: list[float], *, size: float = BODY_PT, least_lines: int = 1,
                   memo: dict | None = None) -> float:
    """The height ``set_row_heights`` gives a row whose cells all wrap at one font ``size``, from its values.
    ``memo``: a dict kept across rows and sheets (lists repeat their texts), of the lines each text takes."""
    height, step = line_height() * least_lines, line_height(size)
    for value, width in zip(values, widths):
        if value is None or value == "":
            continue
        room = width * BODY_PT / size
        if type(value) is str and 2 * len(value) <= room - 1.5 and "\n" not in value:
            lines = 1  # fits even if every character is wide: nothing to measure
        elif memo is not None and type(value) is str:
            key = (room, value)
            lines = memo.get(key)
            if lines is None:
                lines = memo[key] = lines_needed(value, room)
        else:
            lines = lines_needed(value, room)
        height = max(height, lines * step + 4)
    return round(height, 1)


class StyledRows:
    """Rows appended to a write-only sheet, each cell taking its column's style and each row its height.

    ``put``'s rule holds: a string a spreadsheet would evaluate (=, +, -, @ …) is stored as text (quotePrefix).
    A row of text, numbers and empty cells — every row of the lists and reports — is written as XML text
    (``_RawRows``): the same ``<c>`` elements openpyxl writes for a styled cell, without a ``Cell`` bound,
    type-checked and serialised one at a time (most of the time of a list of 100,000 boxed rows). A row with any
    other value (a date, a boolean) takes openpyxl's own path, cell by cell. The sheet's ``_values_to_row`` (the
    one step of openpyxl's write-only sheet replaced) passes both on as given."""

    def __init__(self, sheet, styles: Sequence[WriteOnlyCell]):
        """``styles``: a cell per column whose style (font, alignment, border …) that column's cells take."""
        self.sheet = sheet
        self.styles = [StyleArray(style._style) if style._style is not None else StyleArray() for style in styles]
        cell_styles = sheet.parent._cell_styles
        self.columns = [(get_column_letter(n), str(cell_styles.add(array)), str(cell_styles.add(_quoted(array))))
                        for n, array in enumerate(self.styles, start=1)]
        self.dimensions: dict[float, RowDimension] = {}
        self.row = 0
        if not isinstance(sheet._values_to_row, _AsGiven):
            if sheet._writer is not None:
                raise ValueError("StyledRows writes a sheet from its first row")
            sheet._values_to_row = _AsGiven(sheet)
            sheet._get_writer = partial(_get_writer, sheet)

    def append(self, values: Sequence[Any], height: float | None = None) -> None:
        """One row (None: an empty cell that still takes its column's style), ``height`` points high."""
        self.row += 1
        if height is not None:
            dimension = self.dimensions.get(height)
            if dimension is None:
                dimension = self.dimensions[height] = _Height(self.sheet, height)
            self.sheet.row_dimensions[self.row] = dimension
        if all(type(value) in _PLAIN for value in values):
            self.sheet.append(_Plain(self.columns, values))
            return
        row = []
        for column, (array, value) in enumerate(zip(self.styles, values), start=1):
            quoted = isinstance(value, str) and value.startswith(FORMULA_STARTS)
            cell = Cell(self.sheet, column=column, value=value, style_array=_quoted(array) if quoted else
                        StyleArray(array))  # its own style: a date takes a date's number format
            if quoted:
                cell.data_type = "s"
            row.append(cell)
        self.sheet.append(row)


def _get_writer(sheet) -> None:
    """openpyxl's ``WriteOnlyWorksheet._get_writer`` with ``_RawRows`` for its writer."""
    if sheet._writer is None:
        sheet._writer = _RawRows(sheet)
        sheet._writer.write_top()


def _quoted(array: StyleArray) -> StyleArray:
    quoted = StyleArray(array)
    quoted.quotePrefix = 1
    return quoted


_PLAIN = {str, int, float, type(None)}


class _Plain(tuple):
    """A row of text, numbers and empty cells with its columns' (letter, style id, quoted style id)."""

    def __new__(cls, columns, values):
        row = super().__new__(cls, values)
        row.columns = columns
        return row


class _AsGiven:
    """The write-only sheet's step from appended values to cells: cells are taken as given, and a plain row is
    passed on whole to the sheet's writer (``_RawRows``), which writes it as text."""

    def __init__(self, sheet):
        self.sheet = sheet

    def __call__(self, cells, row: int):
        if type(cells) is _Plain:
            return cells
        return _rowed(cells, row)


def _rowed(cells, row: int):
    for cell in cells:
        cell.row = row
        yield cell


class _RawRows(WorksheetWriter):
    """openpyxl's writer of a write-only sheet, but a plain row goes to the file as XML text made here: building
    lxml elements cell by cell took most of the time of a list of 100,000 rows. The text is what openpyxl writes
    for styled cells (``cell/_writer.py``) — inline text, numbers as values, an empty cell with its style only —
    in UTF-8 where lxml writes character references (the same document)."""

    def __init__(self, ws):
        self.tails: dict[tuple[str, str], str] = {}
        super().__init__(ws)

    def get_stream(self):  # openpyxl's, but the file opened here: lxml's buffer is flushed before each raw row
        with open(self.out, "wb") as self.handle, xmlfile(self.handle) as xf:
            with xf.element("worksheet", xmlns=SHEET_MAIN_NS):
                try:
                    while True:
                        element = (yield)
                        if element is True:
                            yield xf
                        elif element is not None:
                            xf.write(element)
                except GeneratorExit:
                    pass

    def write_row(self, xf, row, row_idx: int) -> None:
        if type(row) is not _Plain:
            return super().write_row(xf, row, row_idx)
        xf.flush()
        self.handle.write(_row_xml(row, row_idx, self.ws.row_dimensions.get(row_idx, ()), self.tails).encode())


def _row_xml(values: _Plain, row_idx: int, dimension, tails: dict[tuple[str, str], str]) -> str:
    """A plain row as openpyxl would write it; openpyxl's rules for text hold (illegal characters refused, at most
    32,767 characters, an error code is an error, a text a spreadsheet would evaluate takes the quoted style).
    ``tails``: the sheet's (style id, text) → the cell's XML after its reference."""
    n = str(row_idx)
    parts = [f'<row r="{n}"', *(f' {k}="{_escape(v)}"' for k, v in dimension), ">"]
    for (letter, style, quoted), value in zip(values.columns, values):
        if value is None:
            parts.append(f'<c r="{letter}{n}" s="{style}" t="n"/>')
        elif type(value) is str:
            if len(value) < 64:  # the short texts a list repeats: each cell's XML after its reference made once
                tail = tails.get((style, value))
                if tail is None:
                    if len(tails) >= _TAILS:  # a column of names or codes repeats nothing: keep the memo small
                        tails.clear()
                    tail = tails[style, value] = _text_tail(value, style, quoted)
            else:
                tail = _text_tail(value, style, quoted)
            parts.append(f'<c r="{letter}{n}"{tail}')
        else:
            parts.append(f'<c r="{letter}{n}" s="{style}" t="n"><v>{safe_string(value)}</v></c>')
    parts.append("</row>")
    return "".join(parts)


_TAILS = 50_000  # short texts' XML remembered per sheet
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")  # what lxml refused besides openpyxl's illegal characters


def _text_tail(value: str, style: str, quoted: str) -> str:
    """A text cell's XML after its reference (``<c r="A2"`` …)."""
    if ILLEGAL_CHARACTERS_RE.search(value) or _NOT_XML.search(value):
        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    value = value[:32767]
    if value in ERROR_CODES:
        return f' s="{style}" t="e"><v>{value}</v></c>'
    if not value:
        return f' s="{style}" t="inlineStr"/>'
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return (f' s="{quoted if value.startswith(FORMULA_STARTS) else style}" t="inlineStr"><is><t{space}>'
            f'{_escape(value)}</t></is></c>')


def _escape(text: str) -> str:
    """Text as lxml escapes it in an element (a carriage return kept as a reference: a parser would drop it)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


class _Height(RowDimension):
    """A row height shared by many rows: its attributes worked out once, not for every row written."""

    def __init__(self, sheet, height: float):
        super().__init__(sheet, ht=height)
        self._attributes = tuple(super().__iter__())

    def __iter__(self):
        return iter(self._attributes)


def set_row_heights(sheet, first: int, last: int, *, least_lines: int = 1) -> None:
    """Row heights that show every wrapped line (Excel and WPS do not grow a row when they open a file)."""
    spans = {}
    covered = set()
    for merged in sheet.merged_cells.ranges:
        spans[(merged.min_row, merged.min_col)] = (merged.min_col, merged.max_col, merged.max_row - merged.min_row + 1)
        covered.update((r, c) for r in range(merged.min_row, merged.max_row + 1)
                       for c in range(merged.min_col, merged.max_col + 1) if (r, c) != (merged.min_row, merged.min_col))
    columns, styles = {}, {}  # each column's width and each style's font size, read once (thousands of rows)

    def wide(c: int) -> float:
        if c not in columns:
            columns[c] = sheet.column_dimensions[get_column_letter(c)].width or 8.43
        return columns[c]

    for r, row in enumerate(sheet.iter_rows(min_row=first, max_row=last), start=first):  # one pass, not sheet[r]
        height = line_height() * least_lines
        for cell in row:
            if (r, cell.column) in covered or cell.value in (None, ""):
                continue
            low, high, tall = spans.get((r, cell.column), (cell.column, cell.column, 1))
            width = sum(wide(c) for c in range(low, high + 1))
            style = (cell._style.fontId, cell._style.alignmentId)  # cells share styles: read each style once
            if style not in styles:
                styles[style] = ((cell.font.sz if cell.font else None) or BODY_PT, bool(cell.alignment.wrap_text))
            size, wraps = styles[style]
            lines = lines_needed(cell.value, width * BODY_PT / size) if wraps else 1
            height = max(height, (lines * line_height(size) + 4) / tall)
        sheet.row_dimensions[r].height = round(height, 1)


def print_on_a4(sheet, orientation: str = "portrait", *, title_rows: str | None = None) -> None:
    """A4, fitted to the page width only (as many pages down as it takes), with rows repeated on every page."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4  # a write-only sheet has no such constant
    sheet.page_setup.orientation = orientation
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = MARGIN_INCHES
    sheet.print_options.horizontalCentered = True
    if title_rows:
        sheet.print_title_rows = title_rows
