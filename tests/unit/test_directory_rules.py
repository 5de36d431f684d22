"""Cell rules of the four directories (FORMATS.md), without files or a database."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from workflow import directory as d
from workflow.importing import Problems, parse_row, plan_header


@pytest.mark.parametrize("raw, expected", [
    ("2019-11-27", date(2019, 11, 27)),
    ("2019/1/5", date(2019, 1, 5)),
    ("2019年1月5日", date(2019, 1, 5)),
    ("２０１９－１１－２７", date(2019, 11, 27)),
    (datetime(2019, 11, 27, 0, 0), date(2019, 11, 27)),
    ("2019-11-27 00:00:00", date(2019, 11, 27)),
])
def test_dates_in_office_forms(raw, expected):
    assert d.parse_date(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("2019-02-30", "不是存在的日期"),
    ("27/11/2019", "不是日期"),
    ("昨天", "不是日期"),
])
def test_bad_dates(raw, message):
    with pytest.raises(d.Invalid, match=message):
        d.parse_date(raw)


@pytest.mark.parametrize("raw, expected", [
    ("500", Decimal("500")), ("1,000.50", Decimal("1000.5")), (999.99, Decimal("999.99")), (0, Decimal(0)),
    ("１０００", Decimal("1000")),
])
def test_capital(raw, expected):
    assert d.decimal_non_negative(raw) == expected


@pytest.mark.parametrize("raw, message", [("-1", "不能为负数"), ("五百", "不是数字"), ("NaN", "不是有限的数字")])
def test_bad_capital(raw, message):
    with pytest.raises(d.Invalid, match=message):
        d.decimal_non_negative(raw)


def test_mobile_and_email():
    assert d.mobile("138 0000 1111") == "13800001111"
    with pytest.raises(d.Invalid, match="11 位手机号码"):
        d.mobile("0311-82012463")
    assert d.email("a.b@luquan.example") == "a.b@luquan.example"
    with pytest.raises(d.Invalid, match="不是有效的电子邮箱"):
        d.email("a.b@")


def test_lists_split_on_chinese_and_ascii_semicolons_and_newlines():
    assert d.split_list("年度报告；即时信息;登记事项\n住所") == ["年度报告", "即时信息", "登记事项", "住所"]


def test_headers_match_after_nfkc_and_aliases():
    problems = Problems("f.csv")
    plan = plan_header(d.ENTERPRISES, ["序号", " 统一社会信用代码 ", "name", "主体类别", "注册资本(万元)", "成立日期",
                                       "登记状态"], problems)
    assert not problems
    assert [c.alias for _, c, _ in plan.columns] == [
        "uscc", "name", "category", "registered_capital", "established_on", "status"]
    assert plan.unknown == ["序号"]


def test_missing_required_column_is_a_whole_file_problem():
    problems = Problems("f.csv")
    plan_header(d.ENTERPRISES, ["企业名称", "主体类别", "成立日期", "登记状态"], problems)
    assert problems.lines() == ["f.csv: 缺少必需的列“统一社会信用代码”（或英文列名 uscc）"]


def test_capital_required_except_for_individual_businesses():
    problems = Problems("f.csv")
    plan = plan_header(d.ENTERPRISES, ["统一社会信用代码", "企业名称", "主体类别", "注册资本（万元）", "成立日期", "登记状态"],
                       problems)
    code = "92130110MA0ABCDE1"
    from workflow.uscc import check_character
    code += check_character(code)
    assert parse_row(plan, 2, [code, "某经营部", "个体工商户", "", "2010-01-01", "存续"], problems) is not None
    assert parse_row(plan, 3, [code, "某公司", "内资企业", "", "2010-01-01", "存续"], problems) is None
    assert problems.lines() == ["f.csv:3: 注册资本（万元）: 必填（个体工商户以外的主体须填写注册资本）"]


def test_problem_lines_are_capped_at_200_with_a_count():
    problems = Problems("f.csv")
    from workflow.importing import Problem
    for row in range(2, 252):
        problems.add(Problem(row, 0, "企业名称", "必填项为空"))
    lines = problems.lines()
    assert len(lines) == 201
    assert lines[0] == "f.csv:2: 企业名称: 必填项为空"
    assert lines[-1] == "f.csv: 另有 50 个问题未列出"
