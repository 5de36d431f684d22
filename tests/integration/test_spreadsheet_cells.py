"""Precise messages for cells a spreadsheet keeps but a clerk does not see (issue 14, case 7): a formula saved
without its result (a file written by a program, never opened in Excel) and a date left as a number in a
General cell. Each is named for what it is, never "必填项为空" or a bare "不是日期"; nothing is stored."""

from __future__ import annotations

import csv

import openpyxl

from tests.conftest import snapshot
from tests.integration.test_results import fill, team_of

UNCOMPUTED = "公式没有计算结果（请在 Excel 或 WPS 中打开并保存后再导入）"


def test_a_directory_names_a_formula_without_result_and_a_serial_date(loaded, db_url, district, tmp_path):
    with open(district["enterprises"], encoding="utf-8-sig", newline="") as fh:
        header, first, second = list(csv.reader(fh))[:3]
    first[header.index("企业名称")] = '=CONCATENATE("鹿泉","有限公司")'
    second[header.index("成立日期")] = 43800
    book = openpyxl.Workbook()
    for values in (header, first, second):
        book.active.append(values)
    path = tmp_path / "名录.xlsx"
    book.save(path)
    before = snapshot(db_url)
    result = loaded("import", "enterprises", path)
    assert result.code == 2, result.err
    assert f"{path}:2: 企业名称: {UNCOMPUTED}" in result.err_lines
    assert (f"{path}:3: 成立日期: 是数字 43800，不是日期（若是 Excel 的日期序号，即 2019-12-01；请把该列设为日期格式，"
            "或写成 2019-12-01）") in result.err_lines
    assert "必填项为空" not in result.err
    assert snapshot(db_url) == before


def test_a_form_names_each_formula_without_result(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[5]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    mapping = fill(path, date="=TODAY()", officers=team_of(teams, uscc), codes={"SJ-01": ('=LEFT("1")', "", "")})
    before = snapshot(db_url)
    result = ssj("results", "import", path)
    assert result.code == 2, result.err
    name = path.name
    assert f"{name}!一企一表!{mapping['date_cell']}: 实际核查日期：{UNCOMPUTED}" in result.err_lines
    assert f"{name}!一企一表!E{mapping['item:SJ-01']}: {UNCOMPUTED}" in result.err_lines
    assert result.err_lines[-1].startswith("导入被拒绝：")
    assert snapshot(db_url) == before
