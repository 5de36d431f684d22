"""The statistics table laid out like the seed's attachment, and the per-enterprise results sheet."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from workflow.files.atomic import atomic_file, write_atomically
from workflow.files.spreadsheet import (StyledRows, csv_safe, fit_widths, line_height, print_on_a4, text_width,
                                        wide_header, widths_of, wrapped_height)
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
    office fills, stamps and signs; then one row per enterprise. Written in openpyxl's write-only mode (the
    enterprises' sheet has a row per drawn enterprise, tens of thousands at province scale)."""
    book = Workbook(write_only=True)
    _table(book.create_sheet("抽查情况统计表"), title, unit, date_line, rows, note)
    _enterprises(book.create_sheet("企业检查结果"), enterprises)
    write_atomically(path, book.save)


def _styled(sheet, *, font: Font | None = None, alignment: Alignment | None = None, border: Border | None = None):
    cell = WriteOnlyCell(sheet)
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if border is not None:
        cell.border = border
    return cell


def _table(sheet, title: str, unit: str, date_line: str, rows: list[StatsRow], note: str) -> None:
    """The statistics table itself: every cell of the header and the rows boxed (merged ones too), rows as high as
    their wrapped text, the two header rows two and four lines high."""
    width = 1 + len(COLUMNS)
    last = get_column_letter(width)
    widths = fit_widths([max(12, text_width("部门"), *(text_width(r.label) + 2 for r in rows)),
                         *([10.0] * len(COLUMNS))], "landscape")
    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = w
    print_on_a4(sheet, "landscape", title_rows="3:4")
    across = [sum(widths)]
    grouped = {key: group for group, keys in GROUPS.items() for key in keys}
    upper, lower = ["部门"], [None]
    for col, (key, label) in enumerate(COLUMNS, start=2):
        group = grouped.get(key)
        if group is None:
            upper.append(_unit_on_its_line(label))
            lower.append(None)
            sheet.merged_cells.add(f"{get_column_letter(col)}3:{get_column_letter(col)}4")
        else:
            keys = GROUPS[group]
            upper.append(group if key == keys[0] else None)
            lower.append(_unit_on_its_line(label))
            if key == keys[0]:
                sheet.merged_cells.add(f"{get_column_letter(col)}3:{get_column_letter(col + len(keys) - 1)}3")
    sheet.merged_cells.add("A3:A4")
    below = 5 + len(rows)
    texts = [text for text in (SUM_NOTE, note) if text]
    sign = below + len(texts) + 1
    for r in (1, 2, *range(below, below + len(texts)), sign):
        sheet.merged_cells.add(f"A{r}:{last}{r}")
    wrap_top = Alignment(vertical="top", wrap_text=True)
    title_rows = StyledRows(sheet, [_styled(sheet, font=Font(bold=True, size=16), alignment=_CENTER)])
    title_rows.append([title], wrapped_height([title], across, size=16))
    dated = StyledRows(sheet, [_styled(sheet, alignment=Alignment(horizontal="right"))])
    dated.row = 1
    dated.append([f"统计截至：{date_line}"], round(line_height() + 4, 1))
    bold = StyledRows(sheet, [_styled(sheet, font=Font(bold=True), alignment=_CENTER, border=_BOX)] * width)
    bold.row = 2
    bold.append(upper, line_height() * 2 + 4)
    bold.append(lower, line_height() * 4 + 4)
    boxed = StyledRows(sheet, [_styled(sheet, alignment=Alignment(vertical="center", wrap_text=True), border=_BOX),
                               *[_styled(sheet, alignment=_CENTER, border=_BOX)] * len(COLUMNS)])
    boxed.row = 4
    for row in rows:
        values = [row.label, *row.cells()]
        boxed.append(values, wrapped_height(values, widths))
    notes = StyledRows(sheet, [_styled(sheet, alignment=wrap_top)])
    notes.row = below - 1
    for text in texts:
        notes.append([text], wrapped_height([text], across))
    notes.append([])
    signed = StyledRows(sheet, [_styled(sheet, alignment=Alignment(vertical="center", wrap_text=True))])
    signed.row = sign - 1
    signed.append([f"填报单位（盖章）：{unit}　　　填报人：＿＿＿＿＿＿　　　联系电话：＿＿＿＿＿＿＿＿"
                   f"　　　填报日期：{date_line}"], line_height() * 2 + 8)


def _enterprises(sheet, enterprises: list[tuple]) -> None:
    """One boxed row per drawn enterprise, as high as its wrapped text, the header on every page."""
    widths = widths_of(list(ENTERPRISE_HEADERS), enterprises, "landscape", most=36)
    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = w
    sheet.freeze_panes = "A2"
    print_on_a4(sheet, "landscape", title_rows="1:1")
    labels = [wide_header(h, widths[c]) for c, h in enumerate(ENTERPRISE_HEADERS)]
    header = StyledRows(sheet, [_styled(sheet, font=Font(bold=True), alignment=_CENTER, border=_BOX)] * len(labels))
    header.append(labels, wrapped_height(labels, widths))
    boxed = StyledRows(sheet, [_styled(sheet, alignment=Alignment(vertical="top", wrap_text=True), border=_BOX)]
                       * len(labels))
    boxed.row, memo = 1, {}
    for values in enterprises:
        boxed.append(values, wrapped_height(values, widths, memo=memo))


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
