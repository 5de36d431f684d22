"""The list each department receives at the dispatch: its enterprises, to answer and send back as is.

The first columns are FORMATS.md's confirmation answers (抽查任务编号, 部门代码,
统一社会信用代码, 是否检查, 不检查理由), so the returned file imports with
``ssj confirm import``; the enterprise's name, address and the items follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workflow.file_tokens import FileToken
from workflow.files.atomic import write_atomically

if TYPE_CHECKING:  # openpyxl loads when a list is written, not with every tick that imports the digests
    from openpyxl import Workbook

HEADERS = ("抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由", "企业名称", "住所", "检查事项")


def write_department_list(path: Path, rows: list[tuple], token: FileToken | None = None,
                          measured: dict | None = None) -> None:
    """Rows: (campaign, department, USCC, name, address, items text); 是否检查 and 理由 left to fill. ``token``:
    what tells the file, sent back by email, to be this department's list (a hidden sheet).

    Written in openpyxl's write-only mode (a province's list has tens of thousands of rows): the rows stream to
    the file, every cell boxed, each row as high as its wrapped text, the sheet fitted to A4 landscape.
    ``measured``: a dict shared by the lists of one dispatch (the same enterprises: each text measured once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: _book(rows, token, {} if measured is None else measured).save(handle))


def _book(rows: list[tuple], token: FileToken | None, measured: dict) -> Workbook:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from workflow.files.spreadsheet import StyledRows, print_on_a4, widths_of, wrapped_height
    from workflow.files.token_sheet import hidden_sheet, write_token

    book = Workbook(write_only=True)
    sheet = book.create_sheet("比对确认")
    shown = [(code, dept, uscc, None, None, name, address, items) for code, dept, uscc, name, address, items in rows]
    widths = widths_of(list(HEADERS), shown, "landscape", most=36, measured=measured.setdefault("widths", {}))
    for c, width in enumerate(widths, start=1):  # before the first row: write-only writes the columns first
        sheet.column_dimensions[get_column_letter(c)].width = width
    print_on_a4(sheet, "landscape", title_rows="1:1")
    sheet.freeze_panes = "A2"
    choice = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    choice.add(f"D2:D{max(2, len(rows) + 1)}")
    sheet.data_validations.append(choice)
    header, box = WriteOnlyCell(sheet), WriteOnlyCell(sheet)
    header.font, header.alignment = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    box.alignment = Alignment(vertical="top", wrap_text=True)
    side = Side(style="thin")
    header.border = box.border = Border(left=side, right=side, top=side, bottom=side)
    StyledRows(sheet, [header] * len(HEADERS)).append(HEADERS, wrapped_height(HEADERS, widths))
    boxed = StyledRows(sheet, [box] * len(HEADERS))
    boxed.row = 1
    lines = measured.setdefault("lines", {})
    for values in shown:
        boxed.append(values, wrapped_height(values, widths, memo=lines))
    if token is not None:
        write_token(hidden_sheet(book), token)
    return book
