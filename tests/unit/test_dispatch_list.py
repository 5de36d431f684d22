"""The department list written in openpyxl's write-only mode keeps what the sheet-based writer set: boxed cells
(the empty answer columns too), text that looks like a formula kept as text, rows as high as their wrapped text,
A4 landscape with the header on every page, the 是/否 choice and the hidden token sheet."""

from __future__ import annotations

import openpyxl

from workflow.file_tokens import FileToken
from workflow.files.dispatch_list import HEADERS, write_department_list
from workflow.files.token_sheet import read_token

TOKEN = FileToken("luquan-2019-h2", "confirm_list", "SJ001", "secret-token")


def test_the_list_reads_back_as_written(tmp_path):
    long_name = "石家庄市鹿泉区示例科技有限公司" * 4
    rows = [("luquan-2019-h2", "SJ001", "91130185MA00000001", "=SUM(A1)", "-地址", "A01 食品"),
            ("luquan-2019-h2", "SJ001", "91130185MA00000002", long_name, "鹿泉区", "A01 食品")]
    path = tmp_path / "派发" / "SJ001.xlsx"
    write_department_list(path, rows, TOKEN)

    book = openpyxl.load_workbook(path)
    assert [(s.title, s.sheet_state) for s in book.worksheets] == [("比对确认", "visible"), ("ssj", "hidden")]
    sheet = book["比对确认"]
    assert [c.value for c in sheet[1]] == list(HEADERS) and all(c.font.b for c in sheet[1])
    formula, dash = sheet["F2"], sheet["G2"]
    assert (formula.value, formula.data_type, formula.quotePrefix) == ("=SUM(A1)", "s", True)
    assert dash.value == "-地址" and dash.quotePrefix
    assert sheet["D2"].value is None and sheet["D2"].border.left.style == "thin", "the answer cells boxed, empty"
    assert sheet.row_dimensions[3].height > sheet.row_dimensions[2].height, "a long name wraps: a taller row"
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    assert sheet.freeze_panes == "A2"
    assert [str(v.sqref) for v in sheet.data_validations.dataValidation] == ["D2:D3"]
    assert read_token(path) == TOKEN


ODD = '甲 & <乙> "丙"\r\n丁'  # what XML escapes, and a line break a parser would turn into another


def test_a_report_row_reads_back_as_written_whatever_its_values(tmp_path):
    """Text, numbers, empty cells and a date (the one value written by openpyxl's own path) read back as written,
    every cell boxed: an office's report keeps its figures and its odd texts (an error code, edge spaces)."""
    from datetime import date

    from workflow.files.report_books import ReportBook

    book = ReportBook()
    book.sheet("明细", "标题", ("a", "b", "c", "d", "e", "f"),
               [("#N/A", " 前后空格 ", 3, 2.5, None, "+86 139"), ("", ODD, 0, -1, date(2019, 12, 20), "=1+1")])
    book.save(tmp_path / "r.xlsx")

    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["明细"]
    first, second = ([c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=5))
    assert first == ["#N/A", " 前后空格 ", 3, 2.5, None, "+86 139"]
    assert second[1:4] == [ODD, 0, -1] and second[4].date() == date(2019, 12, 20) and second[5] == "=1+1"
    assert sheet["F4"].quotePrefix and sheet["F5"].data_type == "s", "text a spreadsheet would evaluate stays text"
    assert all(c.border.left.style == "thin" for row in sheet.iter_rows(min_row=4, max_row=5) for c in row)
