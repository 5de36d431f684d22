"""The list each department receives at the dispatch: its enterprises, to answer and send back as is.

The first columns are FORMATS.md's confirmation answers (抽查任务编号, 部门代码,
统一社会信用代码, 是否检查, 不检查理由), so the returned file imports with
``ssj confirm import``; the enterprise's name, address and the items follow.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflow.files.atomic import write_atomically
from workflow.files.spreadsheet import put

HEADERS = ("抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由", "企业名称", "住所", "检查事项")


def write_department_list(path: Path, rows: list[tuple]) -> None:
    """Rows: (campaign, department, USCC, name, address, items text); 是否检查 and 理由 left to fill."""
    book = Workbook()
    sheet = book.active
    sheet.title = "比对确认"
    for c, (header, width) in enumerate(zip(HEADERS, (16, 10, 22, 10, 30, 30, 36, 40)), start=1):
        sheet.cell(1, c, header).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(c)].width = width
    for r, (code, dept, uscc, name, address, items) in enumerate(rows, start=2):
        for c, value in enumerate((code, dept, uscc, None, None, name, address, items), start=1):
            if value is not None:
                put(sheet, r, c, value)
    choice = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(choice)
    choice.add(f"D2:D{max(2, len(rows) + 1)}")
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, book.save)
