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
