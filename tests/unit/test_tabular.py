"""Reading office files: encodings detected, a title line above the header tolerated."""

import pytest

from workflow.files.tabular import FileProblem, open_table


def header_has_code(cells):
    return "编码" in cells


def rows_of(path):
    with open_table(str(path), header_has_code) as table:
        return table.header_row, table.header, list(table.rows), table.encoding


@pytest.mark.parametrize("encoding, detected", [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                                ("gb18030", "gb18030")])
def test_encodings_are_detected(tmp_path, encoding, detected):
    path = tmp_path / "f.csv"
    path.write_text("编码,名称\nA1,鹿泉区市场监督管理局\n", encoding=encoding)
    header_row, header, rows, found = rows_of(path)
    assert found == detected
    assert header == ["编码", "名称"] and rows == [(2, ["A1", "鹿泉区市场监督管理局"])]


def test_title_line_and_blank_rows(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("抽查事项清单（2019年版）\n\n编码,名称\n,\nA1,甲\n\nA2,乙\n", encoding="utf-8")
    header_row, _, rows, _ = rows_of(path)
    assert header_row == 3
    assert rows == [(5, ["A1", "甲"]), (7, ["A2", "乙"])]


def test_undecodable_bytes_are_a_whole_file_problem(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("编码,名称\n".encode() + b"\x80\xff\xfe\x81\x30\n")
    with pytest.raises(FileProblem, match="无法识别文件编码"):
        rows_of(path)


def test_truncated_xlsx(tmp_path):
    import openpyxl

    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["编码", "名称"])
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(FileProblem, match="不是有效的 XLSX 文件"):
        rows_of(bad)


def test_other_file_types_and_empty_files(tmp_path):
    (tmp_path / "f.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FileProblem, match="不支持的文件类型"):
        rows_of(tmp_path / "f.xls")
    (tmp_path / "e.csv").write_text("\n\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="文件为空"):
        rows_of(tmp_path / "e.csv")


def test_a_csv_row_is_bounded_while_it_is_read(tmp_path):
    long_line = tmp_path / "long.csv"
    long_line.write_text("编码,名称\nA1," + "长" * 1_000_001 + "\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="第 2 行超过 1,000,000 个字符"):
        rows_of(long_line)
    many_lines = tmp_path / "quoted.csv"  # one quoted field over many short lines: still one row
    many_lines.write_text('编码,名称\nA1,"' + "一行\n" * 400_000 + '"\n', encoding="utf-8")
    with pytest.raises(FileProblem, match="超过 1,000,000 个字符"):
        rows_of(many_lines)
    fine = tmp_path / "fine.csv"
    fine.write_text('编码,名称\nA1,"' + "一行\n" * 1_000 + '"\nA2,乙\n', encoding="utf-8")
    assert [n for n, _ in rows_of(fine)[2]] == [2, 3]


@pytest.mark.slow
def test_a_csv_may_have_more_rows_than_an_excel_sheet(tmp_path):
    """A province's export (millions of rows) is read whole: Excel's 1,048,576 rows bound only XLSX."""
    path = tmp_path / "rows.csv"
    path.write_text("编码,名称\n" + "A1,甲\n" * 1_048_577, encoding="utf-8")
    with open_table(str(path), lambda cells: True) as table:
        last = None
        for last, _ in table.rows:
            pass
    assert last == 1_048_578
