"""Writing cells people open in Excel or WPS: text that looks like a formula stays text (XLSX and CSV), and
sheets that print on A4 at a size people can read (widths from the widest text, heights for wrapped lines).

Large lists (a department's dispatch list at province scale) are written in openpyxl's write-only mode: rows
streamed, each cell a ``WriteOnlyCell`` taking its column's style (``StyledRows``), widths and heights computed from
the rows themselves (``widths_of``, ``wrapped_height``) — the same numbers the sheet-based helpers set."""

from __future__ import annotations

from functools import lru_cache
from math import ceil
from collections.abc import Sequence
from typing import Any
from unicodedata import east_asian_width

from lxml import etree
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, IllegalCharacterError
from openpyxl.compat import safe_string
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet

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
    for row in rows:
        for c, value in enumerate(row[:len(wanted)]):
            if type(value) is str:
                width = measured.get(value)
                if width is None:
                    width = measured[value] = text_width(value)
            else:
                width = text_width(value)
            wanted[c] = max(wanted[c], min(most, width + 2))
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
        if memo is not None and type(value) is str:
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

    ``put``'s rule holds: a string a spreadsheet would evaluate is stored as text (quotePrefix). A row of text,
    numbers and empty cells — every row of a list — is written as one piece of XML (``_RowXml``): the same
    ``<row>``/``<c>`` elements openpyxl writes (inline strings, the column's style index, the row's height), but
    without a cell object, a type check and an element per cell (most of the time of a list of 100,000 boxed
    rows). A row holding anything else (a date, a rich text …) goes through openpyxl's own cells, filled again for
    every row, one per column; the sheet takes them as given (``_values_to_row`` replaced)."""

    def __init__(self, sheet, styles: Sequence[WriteOnlyCell]):
        """``styles``: a cell per column whose style (font, alignment, border …) that column's cells take."""
        self.sheet = sheet
        self.plain = [self._cell(style, column) for column, style in enumerate(styles, start=1)]
        self.quoted = [self._cell(style, column, quoted=True) for column, style in enumerate(styles, start=1)]
        self.columns = [(get_column_letter(column), plain.style_id, quoted.style_id)  # what each cell's XML names
                        for column, plain, quoted in zip(range(1, len(styles) + 1), self.plain, self.quoted)]
        self.dimensions: dict[float, RowDimension] = {}
        self.row = 0
        sheet._values_to_row = _as_given

    def _cell(self, style: WriteOnlyCell, column: int, quoted: bool = False) -> Cell:
        array = StyleArray(style._style) if style._style is not None else StyleArray()
        if quoted:
            array.quotePrefix = 1
        return _Refilled(self.sheet, column, array)

    def append(self, values: Sequence[Any], height: float | None = None) -> None:
        """One row (None: an empty cell that still takes its column's style), ``height`` points high."""
        self.row += 1
        dimension = None
        if height is not None:
            dimension = self.dimensions.get(height)
            if dimension is None:
                dimension = self.dimensions[height] = _Height(self.sheet, height)
        if all(type(value) in _AS_XML for value in values):
            _written_as_xml(self.sheet)
            self.sheet.append(_RowXml(self, values, dimension))
            return
        row = []
        for plain, quoted, value in zip(self.plain, self.quoted, values):
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                quoted.value = value
                quoted.data_type = "s"
                row.append(quoted)
            else:
                plain.value = value
                row.append(plain)
        if dimension is not None:
            self.sheet.row_dimensions[self.row] = dimension
        self.sheet.append(row)


_AS_XML = {str, int, float, type(None)}  # bool is not int here: openpyxl writes it as t="b"


class _RowXml(tuple):
    """A row ``StyledRows`` writes as XML: (rows, values, height)."""

    def __new__(cls, rows: StyledRows, values: Sequence[Any], dimension: RowDimension | None):
        return super().__new__(cls, (rows, values, dimension))

    def xml(self, number: int) -> bytes:
        rows, values, dimension = self
        height = dimension.xml if dimension is not None else ""
        parts = [f'<row r="{number}"{height}>']
        for (letter, plain, quoted), value in zip(rows.columns, values):
            if value is None or value == "":
                parts.append(f'<c r="{letter}{number}" s="{plain}"/>')
            elif type(value) is str:
                space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""  # as strip()
                parts.append(f'<c r="{letter}{number}" s="{quoted if value.startswith(FORMULA_STARTS) else plain}" '
                             f't="inlineStr"><is><t{space}>{_escaped(value)}</t></is></c>')
            else:
                parts.append(f'<c r="{letter}{number}" s="{plain}" t="n"><v>{safe_string(value)}</v></c>')
        parts.append("</row>")
        return "".join(parts).encode()


@lru_cache(maxsize=65536)
def _escaped(text: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(text):
        raise IllegalCharacterError(f"{text} cannot be used in worksheets.")  # openpyxl's own refusal
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _written_as_xml(sheet) -> None:
    """The sheet's writer takes a ``_RowXml`` as its XML and any other row as openpyxl writes it (once per sheet)."""
    sheet._get_writer()
    writer = sheet._writer
    if getattr(writer, "ssj_rows_as_xml", False):
        return
    cells = writer.write_row

    def write_row(xf, row, number):
        if type(row) is _RowXml:
            xf.write(etree.fromstring(row.xml(number)))
        else:
            cells(xf, row, number)
    writer.write_row = write_row
    writer.ssj_rows_as_xml = True


class _Refilled(Cell):
    """A cell written again and again with new values and the same style: its style's index found once."""

    def __init__(self, sheet, column: int, style):
        super().__init__(sheet, column=column, style_array=style)
        self._style_id = sheet.parent._cell_styles.add(style)

    @property
    def style_id(self) -> int:
        return self._style_id

    @property
    def has_style(self) -> bool:
        return True


class _Height(RowDimension):
    """A row height shared by many rows: its attributes worked out once, not for every row written."""

    def __init__(self, sheet, height: float):
        super().__init__(sheet, ht=height)
        self._attributes = tuple(super().__iter__())
        self.xml = "".join(f' {name}="{value}"' for name, value in self._attributes)

    def __iter__(self):
        return iter(self._attributes)


def _as_given(cells, row: int):
    if type(cells) is _RowXml:
        return cells
    return _numbered(cells, row)


def _numbered(cells, row: int):
    for cell in cells:
        cell.row = row
        yield cell


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
