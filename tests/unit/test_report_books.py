"""A report's table longer than a sheet holds (Excel's and WPS's 1,048,576 rows; a province's confirmation answers
are more) goes on in the next sheets, each titled and headed again, and not a row is lost or repeated."""

from __future__ import annotations

from openpyxl import load_workbook

from workflow.files import report_books
from workflow.files.report_books import ReportBook

HEADERS = ("部门", "统一社会信用代码", "是否检查")


def test_a_table_longer_than_a_sheet_goes_on_in_the_next_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(report_books, "SHEET_ROWS", 12)  # room for 8 rows under a title, a note, a blank and a header
    rows = [("区市场监管局", f"91130100MA{n:08d}", "是" if n % 3 else "否") for n in range(30)]
    book = ReportBook()
    book.sheet("汇总", "鹿泉区 比对确认情况", ("部门", "派发（户）"), [("区市场监管局", 30)])
    book.sheet("比对确认明细", "鹿泉区 比对确认明细", HEADERS, rows, notes=["说明：按部门排列"], landscape=True)
    book.save(tmp_path / "report.xlsx")

    read = load_workbook(tmp_path / "report.xlsx", read_only=True)
    assert read.sheetnames == ["汇总", "比对确认明细", "比对确认明细（续2）", "比对确认明细（续3）", "比对确认明细（续4）"]
    found = []
    for name in read.sheetnames[1:]:
        values = [tuple(r) for r in read[name].iter_rows(values_only=True)]
        assert len(values) <= 12, f"{name}: more rows than a sheet holds"
        suffix = name.removeprefix("比对确认明细")
        assert values[0][0] == f"鹿泉区 比对确认明细{suffix}" and values[1][0] == "说明：按部门排列"
        assert values[3] == HEADERS, f"{name}: the header again"
        found += values[4:]
    assert found == rows, "every row once, in order"
