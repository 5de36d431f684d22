"""The statistics table laid out like the seed's attachment, and the per-enterprise results sheet."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from workflow.files.atomic import atomic_file, write_atomically
from workflow.files.spreadsheet import csv_safe, put
from workflow.statistics import COLUMNS, GROUPS, StatsRow

_SIDE = Side(style="thin")
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
ENTERPRISE_HEADERS = ("统一社会信用代码", "企业名称", "状态", "检查部门", "检查完成日期", "检查结果", "发现问题事项（项）",
                      "应列入异常", "后续处置")


def write_statistics_xlsx(title: str, unit: str, date_line: str, rows: list[StatsRow], enterprises: list[tuple],
                          path: Path, note: str = "") -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "抽查情况统计表"
    width = 1 + len(COLUMNS)
    last = get_column_letter(width)
    sheet["A1"] = title
    sheet["A1"].font, sheet["A1"].alignment = Font(bold=True, size=16), _CENTER
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 32
    sheet["A2"] = f"单位：{unit}"
    put(sheet, 2, width, f"填报日期：{date_line}").alignment = Alignment(horizontal="right")
    grouped = {key: group for group, keys in GROUPS.items() for key in keys}
    sheet.cell(3, 1, "部门")
    sheet.merge_cells("A3:A4")
    col = 2
    for key, label in COLUMNS:
        group = grouped.get(key)
        if group is None:
            sheet.cell(3, col, label)
            sheet.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        else:
            keys = GROUPS[group]
            if key == keys[0]:
                sheet.cell(3, col, group)
                sheet.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + len(keys) - 1)
            sheet.cell(4, col, label)
        col += 1
    for r in range(3, 5 + len(rows)):
        for c in range(1, width + 1):
            cell = sheet.cell(r, c)
            cell.border, cell.alignment = _BOX, _CENTER
    for r in (3, 4):
        for c in range(1, width + 1):
            sheet.cell(r, c).font = Font(bold=True)
    for n, row in enumerate(rows, start=5):
        put(sheet, n, 1, row.label)
        for c, value in enumerate(row.cells(), start=2):
            sheet.cell(n, c, value)
    sheet.column_dimensions["A"].width = 30
    for c in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(c)].width = 12
    sheet.row_dimensions[3].height = 30
    sheet.row_dimensions[4].height = 45
    if note:
        sheet.cell(6 + len(rows), 1, note)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    detail = book.create_sheet("企业检查结果")
    for c, header in enumerate(ENTERPRISE_HEADERS, start=1):
        cell = detail.cell(1, c, header)
        cell.font, cell.border = Font(bold=True), _BOX
        detail.column_dimensions[get_column_letter(c)].width = (22, 30, 8, 30, 12, 40, 12, 10, 30)[c - 1]
    for r, values in enumerate(enterprises, start=2):
        for c, value in enumerate(values, start=1):
            put(detail, r, c, value).border = _BOX
    write_atomically(path, book.save)


def write_statistics_csv(rows: list[StatsRow], path: Path) -> None:
    with atomic_file(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["部门", *(label for _, label in COLUMNS)])
        for row in rows:
            writer.writerow([csv_safe(row.label), *row.cells()])
