"""The list each department receives at the dispatch: its enterprises, to answer and send back as is.

The first columns are FORMATS.md's confirmation answers (抽查任务编号, 部门代码,
统一社会信用代码, 是否检查, 不检查理由), so the returned file imports with
``ssj confirm import``; the enterprise's name, address and the items follow.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.datavalidation import DataValidation

from workflow.file_tokens import FileToken
from workflow.files.atomic import write_atomically
from workflow.files.token_sheet import hidden_sheet, write_token
from workflow.files.spreadsheet import column_widths, print_on_a4, put, set_row_heights

_SIDE = Side(style="thin")
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
HEADERS = ("抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由", "企业名称", "住所", "检查事项")


def write_department_list(path: Path, rows: list[tuple], token: FileToken | None = None) -> None:
    """Rows: (campaign, department, USCC, name, address, items text); 是否检查 and 理由 left to fill. ``token``:
    what tells the file, sent back by email, to be this department's list (a hidden sheet)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "比对确认"
    shown = [(code, dept, uscc, "", "", name, address, items) for code, dept, uscc, name, address, items in rows]
    column_widths(sheet, list(HEADERS), shown, "landscape", most=36)
    for c, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(1, c, header)
        cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
    first = sheet.cell(2, 1)
    first.alignment, first.border = Alignment(vertical="top", wrap_text=True), _BOX
    boxed = first._style  # every data cell's style, copied as is (styling thousands of cells one by one is slow)
    for r, (code, dept, uscc, name, address, items) in enumerate(rows, start=2):
        for c, value in enumerate((code, dept, uscc, None, None, name, address, items), start=1):
            sheet.cell(r, c)._style = copy(boxed)
            if value is not None:
                put(sheet, r, c, value)
    set_row_heights(sheet, 1, len(rows) + 1)
    print_on_a4(sheet, "landscape", title_rows="1:1")
    choice = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(choice)
    choice.add(f"D2:D{max(2, len(rows) + 1)}")
    sheet.freeze_panes = "A2"
    if token is not None:
        write_token(hidden_sheet(book), token)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, book.save)
