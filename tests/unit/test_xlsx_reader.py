"""The bounded XLSX reader: values as openpyxl's data_only gives them, every limit refused with its place."""

from datetime import date, datetime

import openpyxl
import pytest

from tests.xlsx_files import rows, write_xlsx
from workflow.directory import Invalid, parse_date
from workflow.files.xlsx_reader import UNCOMPUTED, Limits, XlsxProblem, open_xlsx
from workflow.importing import HeaderPlan, Problems, UnreadableCell, parse_row, plan_header
from workflow.directory import DIRECTORIES


def read(path, sheet=0, limits=Limits(), max_rows=None):
    with open_xlsx(path, limits) as book:
        return list(book.rows(sheet, max_rows=max_rows))


def test_values_as_excel_keeps_them(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [("名录", rows([
        ["编码", "名称", "日期", "数字"],
        ["A1", ("s", 0), ("date", 43800), 1.5, ("年月日", 43797)],
        [None, ("s", 1), 43800, ("f", "SUM(D2)")],
        ["x", ("e", "#REF!")],
    ]))], shared=["鹿泉区", '<si><r><t>富</t></r><r><t>文本</t></r><rPh><t>フリガナ</t></rPh></si>'])
    got = read(path)
    assert got[0] == (1, ["编码", "名称", "日期", "数字"])
    assert got[1] == (2, ["A1", "鹿泉区", datetime(2019, 12, 1), 1.5, datetime(2019, 11, 28)])
    assert got[2] == (3, [None, "富文本", 43800, UNCOMPUTED])
    assert got[3][1][1] == UnreadableCell("单元格是错误值 #REF!")


def test_an_openpyxl_workbook_reads_as_openpyxl_reads_it(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["名称", "成立日期", "是否", "公式"])
    book.active.append(["甲", date(2019, 11, 28), True, "=1+2"])
    book.create_sheet("第二页").append(["乙"])
    book.save(tmp_path / "o.xlsx")
    with open_xlsx(tmp_path / "o.xlsx") as opened:
        assert opened.sheet_names == ["Sheet", "第二页"]
        assert list(opened.rows(0)) == [(1, ["名称", "成立日期", "是否", "公式"]),
                                        (2, ["甲", datetime(2019, 11, 28), True, UNCOMPUTED])]
        assert list(opened.rows("第二页")) == [(1, ["乙"])]


def test_zip_bomb_and_oversized_parts_are_refused_before_decompressing(tmp_path):
    bomb = write_xlsx(tmp_path / "bomb.xlsx", [("s", ["<row r=\"1\"/>" * 400_000])])
    with pytest.raises(XlsxProblem, match=r"压缩比异常：xl/worksheets/sheet1.xml .*疑似“压缩炸弹”"):
        read(bomb)
    with pytest.raises(XlsxProblem, match="解压后共 .* MB，超过上限 1 MB"):
        read(bomb, limits=Limits(uncompressed_bytes=1 << 20, ratio=10_000))
    shared = write_xlsx(tmp_path / "shared.xlsx", [("s", rows([[("s", 0)]]))], shared=["字" * 400_000])
    with pytest.raises(XlsxProblem, match="xl/sharedStrings.xml 解压后 1.1 MB，超过上限 1 MB"):
        read(shared, limits=Limits(shared_strings_bytes=1 << 20, ratio=10_000))


def test_a_cell_over_excels_limit_is_named(tmp_path):
    inline = write_xlsx(tmp_path / "inline.xlsx", [("表", rows([["a"], ["b", "x" * 32_768]]))])
    with pytest.raises(XlsxProblem, match="工作表“表”单元格 B2 超过 32,767 个字符"):
        read(inline)
    shared = write_xlsx(tmp_path / "shared.xlsx", [("表", rows([["a", ("s", 1)], [("s", 0)]]))],
                        shared=["y" * 40_000, "ok"])
    with pytest.raises(XlsxProblem, match="单元格 A2 有 40,000 个字符，超过 32,767 个"):
        read(shared, limits=Limits(ratio=10_000))
    unused = write_xlsx(tmp_path / "unused.xlsx", [("表", rows([["a", ("s", 1)]]))], shared=["y" * 40_000, "ok"])
    assert read(unused, limits=Limits(ratio=10_000)) == [(1, ["a", "ok"])]  # only a cell using it is refused


def test_rows_are_bounded_by_declaration_and_by_count(tmp_path):
    declared = write_xlsx(tmp_path / "declared.xlsx", [("表", rows([["a"]]))], dimension="A1:B1048576")
    with pytest.raises(XlsxProblem, match="声明有 1,048,576 行（A1:B1048576），超过上限 200,000 行"):
        read(declared)
    counted = write_xlsx(tmp_path / "counted.xlsx", [("表", rows([["a"]] * 11))])
    with pytest.raises(XlsxProblem, match="超过 10 行（第 11 行）"):
        read(counted, max_rows=10)
    wide = write_xlsx(tmp_path / "wide.xlsx", [("表", rows([["字" * 30_000] * 40]))])
    with pytest.raises(XlsxProblem, match="第 1 行的内容超过 1,000,000 个字符"):
        read(wide, limits=Limits(ratio=10_000))


@pytest.mark.parametrize("content, words", [
    (b"%PDF-1.4" + bytes(300), "不是有效的 XLSX 文件"),
    (None, "内容损坏，无法读取（xl/worksheets/sheet1.xml 第 1 行：mismatched tag）"),
])
def test_broken_files(tmp_path, content, words):
    path = tmp_path / "b.xlsx"
    if content is None:
        write_xlsx(path, [("表", ["<row><c><v>1</row>"])])
    else:
        path.write_bytes(content)
    with pytest.raises(XlsxProblem, match=words):
        read(path)


def test_a_doctype_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "d.xlsx", [("表", ['<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'])])
    import zipfile

    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "e.xlsx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
            dst.writestr(info, data)
    with pytest.raises(XlsxProblem, match="DTD"):
        read(tmp_path / "e.xlsx")


def test_uncomputed_formulas_and_serials_are_reported_for_what_they_are():
    directory = DIRECTORIES["enterprises"]
    problems = Problems("f.xlsx")
    header = [c.header for c in directory.columns]
    plan: HeaderPlan = plan_header(directory, header, problems)
    values = [None] * len(header)
    values[header.index("企业名称")] = UNCOMPUTED
    values[header.index("成立日期")] = 43800
    assert parse_row(plan, 2, values, problems) is None
    lines = problems.lines()
    assert "f.xlsx:2: 企业名称: 公式没有计算结果（请在 Excel 或 WPS 中打开并保存后再导入）" in lines
    assert ("f.xlsx:2: 成立日期: 是数字 43800，不是日期（若是 Excel 的日期序号，即 2019-12-01；请把该列设为日期格式，"
            "或写成 2019-12-01）") in lines
    assert not any("必填项为空" in line and ":2: 企业名称:" in line for line in lines)


@pytest.mark.parametrize("value, words", [(43800, "即 2019-12-01"), ("43800", "即 2019-12-01"),
                                          (20191128, "若指 2019-11-28"), (7, "是数字 7，不是日期")])
def test_numbers_in_a_date_column_say_what_they_are(value, words):
    with pytest.raises(Invalid, match=words):
        parse_date(value)


def test_a_summary_sheet_is_read_right_of_or_below_each_label(tmp_path):
    from workflow.errors import UserError
    from workflow.files.summary_text import read_summary_parts

    path = write_xlsx(tmp_path / "总结.xlsx", [("总结", rows([["一、亮点", "联合检查一次到位"], ["二、经验做法"],
                                                            ["部门协同"], [None], ["三、存在问题"]]))])
    assert read_summary_parts(path) == {"highlights": "联合检查一次到位", "practices": "部门协同", "problems": ""}
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(UserError, match="坏.xlsx: 不是有效的 XLSX 文件"):
        read_summary_parts(bad)
