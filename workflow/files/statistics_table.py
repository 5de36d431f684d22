"""The statistics table laid out like the seed's attachment, and the per-enterprise results sheet."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from workflow.files.atomic import atomic_file, write_atomically
from workflow.files.spreadsheet import (column_widths, csv_safe, fit_widths, line_height, print_on_a4, put,
                                        set_row_heights, text_width, wide_header)
from workflow.statistics import COLUMNS, GROUPS, StatsRow

_SIDE = Side(style="thin")
_BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
ENTERPRISE_HEADERS = ("统一社会信用代码", "企业名称", "状态", "检查部门", "检查完成日期", "检查结果", "发现问题事项（项）",
                      "应列入异常", "后续处置")


def statistics_title(campaign_name: str) -> str:
    """The attachment's title: the campaign's name + 情况统计表, without doubling a closing 抽查."""
    return campaign_name + ("情况统计表" if campaign_name.endswith("抽查") else "抽查情况统计表")


SUM_NOTE = ("注：同一企业可由多个部门联合检查，各部门行分别统计本部门的检查情况，各部门行相加不必等于“合计”行"
            "（合计行中同一企业、同一执法检查人员只计一次）。")


def write_statistics_xlsx(title: str, unit: str, date_line: str, rows: list[StatsRow], enterprises: list[tuple],
                          path: Path, note: str = "") -> None:
    """Landscape A4 like the seed's attachment: the title once, the grouped headers (each unit kept with its
    words), one row per department under the total, the note that rows need not add up, and the line the
    office fills, stamps and signs."""
    book = Workbook()
    sheet = book.active
    sheet.title = "抽查情况统计表"
    width = 1 + len(COLUMNS)
    last = get_column_letter(width)
    widths = fit_widths([max(12, text_width("部门"), *(text_width(r.label) + 2 for r in rows)),
                         *([10.0] * len(COLUMNS))], "landscape")
    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = w
    sheet["A1"] = title
    sheet["A1"].font, sheet["A1"].alignment = Font(bold=True, size=16), _CENTER
    sheet.merge_cells(f"A1:{last}1")
    put(sheet, 2, 1, f"统计截至：{date_line}").alignment = Alignment(horizontal="right")
    sheet.merge_cells(f"A2:{last}2")
    grouped = {key: group for group, keys in GROUPS.items() for key in keys}
    sheet.cell(3, 1, "部门")
    sheet.merge_cells("A3:A4")
    col = 2
    for key, label in COLUMNS:
        group = grouped.get(key)
        if group is None:
            sheet.cell(3, col, _unit_on_its_line(label))
            sheet.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        else:
            keys = GROUPS[group]
            if key == keys[0]:
                sheet.cell(3, col, group)
                sheet.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + len(keys) - 1)
            sheet.cell(4, col, _unit_on_its_line(label))
        col += 1
    for r in range(3, 5 + len(rows)):
        for c in range(1, width + 1):
            cell = sheet.cell(r, c)
            cell.border, cell.alignment = _BOX, _CENTER
    for r in (3, 4):
        for c in range(1, width + 1):
            sheet.cell(r, c).font = Font(bold=True)
    for n, row in enumerate(rows, start=5):
        put(sheet, n, 1, row.label).alignment = Alignment(vertical="center", wrap_text=True)
        for c, value in enumerate(row.cells(), start=2):
            sheet.cell(n, c, value)
    below = 5 + len(rows)
    for text in (SUM_NOTE, note):
        if text:
            put(sheet, below, 1, text).alignment = Alignment(vertical="top", wrap_text=True)
            sheet.merge_cells(f"A{below}:{last}{below}")
            below += 1
    set_row_heights(sheet, 1, below - 1)
    sheet.row_dimensions[3].height = line_height() * 2 + 4
    sheet.row_dimensions[4].height = line_height() * 4 + 4
    below += 1
    sheet.cell(below, 1, f"填报单位（盖章）：{unit}　　　填报人：＿＿＿＿＿＿　　　联系电话：＿＿＿＿＿＿＿＿"
                         f"　　　填报日期：{date_line}").alignment = Alignment(vertical="center", wrap_text=True)
    sheet.merge_cells(f"A{below}:{last}{below}")
    sheet.row_dimensions[below].height = line_height() * 2 + 8
    print_on_a4(sheet, "landscape", title_rows="3:4")

    detail = book.create_sheet("企业检查结果")
    widths = column_widths(detail, list(ENTERPRISE_HEADERS), enterprises, "landscape", most=36)
    for c, header in enumerate(ENTERPRISE_HEADERS, start=1):
        cell = detail.cell(1, c, wide_header(header, widths[c - 1]))
        cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
    for r, values in enumerate(enterprises, start=2):
        for c, value in enumerate(values, start=1):
            cell = put(detail, r, c, value)
            cell.border, cell.alignment = _BOX, Alignment(vertical="top", wrap_text=True)
    set_row_heights(detail, 1, 1 + len(enterprises))
    detail.freeze_panes = "A2"
    print_on_a4(detail, "landscape", title_rows="1:1")
    write_atomically(path, book.save)


def _unit_on_its_line(label: str) -> str:
    """``发现问题企业（户）`` → ``发现问题企业\n（户）``: a narrow header breaks before its unit, not inside it."""
    head, bracket, unit = label.partition("（")
    return f"{head}\n（{unit}" if bracket and head else label


def write_statistics_csv(rows: list[StatsRow], path: Path) -> None:
    with atomic_file(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["部门", *(label for _, label in COLUMNS)])
        for row in rows:
            writer.writerow([csv_safe(row.label), *row.cells()])
