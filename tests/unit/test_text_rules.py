"""Text at the door (issue 14, cases 4 and 7): control characters, email addresses, anchored codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy.exc

from workflow import campaign_values as kinds
from workflow import directory as d
from workflow.campaign_file import CampaignFileError, parse_campaign
from workflow.confirmation import CONFIRMATIONS
from workflow.email_address import address_problem
from workflow.importing import Problems, parse_row, plan_header
from workflow.persistence.database import internal_failure
from workflow.text_rules import any_control_character, control_character, unescape_ooxml, visible

SEED = (Path(__file__).parents[2] / "examples" / "luquan-2019-h2.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, point", [
    ("鹿泉\x0b食品厂", "000B"),  # Word's manual line break
    ("鹿泉\x1f食品厂", "001F"),
    ("鹿泉\x00食品厂", "0000"),
    ("\x7f", "007F"),
    ("鹿泉\x85食品厂", "0085"),  # C1: NEL
    ("鹿泉\x9f", "009F"),
    ("鹿泉\ud800食品厂", "D800"),  # a lone surrogate
    ("鹿泉\ufffe", "FFFE"),
    ("鹿泉\uffff", "FFFF"),
    ("鹿泉\t食品厂", "0009"),
    ("鹿泉\n食品厂", "000A"),
    ("鹿泉食品厂\r", "000D"),
])
def test_a_control_character_is_refused_on_one_line(text, point):
    assert control_character(text) == f"含有不可见控制字符（U+{point}）"
    assert any_control_character(["91130185MA07XKJ2X1", None, 500, text]), "the row's quick look sees it too"


@pytest.mark.parametrize("text, refused", [
    ("第一条\n第二条\r\n\t第三条", None),
    ("第一条\x0b第二条", "含有不可见控制字符（U+000B）"),
    ("依据\x00", "含有不可见控制字符（U+0000）"),
])
def test_several_lines_allow_tabs_and_line_breaks_only(text, refused):
    assert control_character(text, multiline=True) == refused


@pytest.mark.parametrize("text", ["鹿泉食品厂", "A & B 公司（分厂）", "_x005F_x000B_ typed as text", "a_x0041_b", "😀", ""])
def test_ordinary_text_passes(text):
    assert control_character(text) is None
    assert not any_control_character([text, "鹿泉\u3000食品厂", None])


@pytest.mark.parametrize("written, meant", [
    ("鹿泉_x000B_食品厂", "鹿泉\x0b食品厂"),  # how Excel and WPS write U+000B in a cell's XML
    ("第一条_x000D_\n第二条", "第一条\r\n第二条"),  # a CR from Windows text pasted into a cell
    ("_x005F_x000B_ typed as text", "_x000B_ typed as text"),
    ("a_x0041_b", "aAb"),
    ("鹿泉_xfffe_", "鹿泉\ufffe"),
    ("_x00_ _xZZZZ_ 鹿泉", "_x00_ _xZZZZ_ 鹿泉"),
])
def test_an_xlsx_cell_is_read_as_excel_meant_it(written, meant):
    assert unescape_ooxml(written) == meant


def test_a_refused_character_is_quoted_only_made_visible():
    assert visible("a\x1b[31mb\n") == "a\\u001b[31mb\\u000a"


def _row(directory, header, values):
    problems = Problems("file.csv")
    record = parse_row(plan_header(directory, header, problems), 2, values, problems)
    return record, problems.lines()


@pytest.mark.parametrize("directory, header, values, line", [
    (d.ENTERPRISES, ["统一社会信用代码", "企业名称", "住所"], ["91130185MA07XKJ2X1", "鹿泉\x0b食品厂", "x"],
     "file.csv:2: 企业名称: 含有不可见控制字符（U+000B）"),
    (d.ENTERPRISES, ["统一社会信用代码", "企业名称", "住所"], ["91130185MA07XKJ2X1", "鹿泉食品厂", "上庄镇\n1号"],
     "file.csv:2: 住所: 含有不可见控制字符（U+000A）"),
    (d.ENTERPRISES, ["统一社会信用代码", "企业名称"], ["91130185MA07XKJ2X1", "鹿泉食品厂\x1f"],
     "file.csv:2: 企业名称: 含有不可见控制字符（U+001F）"),  # never stripped away as whitespace
    (d.DEPARTMENTS, ["部门代码", "部门名称"], ["SJ\x00", "市场监管局"], "file.csv:2: 部门代码: 含有不可见控制字符（U+0000）"),
    (d.DEPARTMENTS, ["部门代码", "联络人邮箱"], ["SJ", "a\t@sj.example"], "file.csv:2: 联络人邮箱: 含有不可见控制字符（U+0009）"),
    (d.ITEMS, ["事项编码", "检查依据"], ["SJ-01", "《条例》\x0b第十条"], "file.csv:2: 检查依据: 含有不可见控制字符（U+000B）"),
    (CONFIRMATIONS, ["抽查任务编号", "统一社会信用代码"], ["luquan-2019-h2\n", "91130185MA07XKJ2X1"],
     "file.csv:2: 抽查任务编号: 含有不可见控制字符（U+000A）"),
])
def test_a_row_names_the_cell_holding_a_control_character(directory, header, values, line):
    record, lines = _row(directory, header, values)
    assert record is None and lines == [line]


def test_multi_line_fields_keep_their_lines():
    record, lines = _row(d.ITEMS, ["事项编码", "检查依据", "检查内容"],
                         ["SJ-01", "《条例》\n第十条", "检查一\n检查二\t（现场）"])
    assert lines == [] and record["basis"] == "《条例》\n第十条" and record["contents"] == ["检查一", "检查二\t（现场）"]


@pytest.mark.parametrize("address, problem", [
    ("a..b@x.cn", "@ 前的部分不能有连续的点"),
    (".a@x.cn", "@ 前的部分不能以点开头或结尾"),
    ("a.@x.cn", "@ 前的部分不能以点开头或结尾"),
    ("a@-c.example", "域名中的“-c”不合规"),
    ("a@c-.example", "域名中的“c-”不合规"),
    ("a@localhost", "@ 后应为域名，如 example.cn（至少两段，以点分隔，不能有空段）"),
    ("a@x..cn", "@ 后应为域名"),
    ("a@x_y.cn", "域名中的“x_y”不合规"),
    ("a@中国.cn", "中文域名请写成 xn-- 形式"),
    ("a@1.2.3.4", "域名的最后一段不能全是数字"),
    ("张三@x.cn", "@ 前的部分只能有英文字母、数字"),
    ("a b@x.cn", "@ 前的部分只能有英文字母、数字"),
    ("a@b@x.cn", "应有且仅有一个 @"),
    ("clerk", "应有且仅有一个 @"),
    ("@x.cn", "@ 前没有内容"),
    ("a" * 65 + "@x.cn", "@ 前的部分过长（65 个字符，最多 64 个）"),
])
def test_bad_email_addresses_say_what_is_wrong(address, problem):
    assert problem in address_problem(address)
    with pytest.raises(d.Invalid) as refused:
        d.email(address)
    assert str(refused.value).startswith(f"“{address[:40]}")
    assert "不是有效的电子邮箱地址：" in str(refused.value) and problem in str(refused.value)
    with pytest.raises(d.Invalid, match="应为电子邮箱地址（") as refused:
        kinds.email(address)
    assert problem in str(refused.value)


@pytest.mark.parametrize("address", [
    "1qqj2463@163.com", "contact@sj.luquan.example", "o'brien+tag@mail.example.cn", "a.b-c_d@x-y.z9.cn",
    "first.last@xn--fiqs8s.xn--fiqs8s", "ＡＢ＠ｘ．ｃｎ",  # full-width, as a Chinese IME types it (NFKC)
])
def test_good_email_addresses_pass(address):
    assert d.email(address) == d.email(f" {address} ")


@pytest.mark.parametrize("kind, value", [
    (kinds.code, "luquan-2019-h2\n"),
    (kinds.clock_time, "17:00\n"),
    (kinds.period, "2 workdays\nx"),
])
def test_campaign_values_match_the_whole_string(kind, value):
    with pytest.raises(d.Invalid, match="实际为"):
        kind(value)


def test_a_date_matches_the_whole_string():
    with pytest.raises(d.Invalid, match="不是日期"):
        d.parse_date("2019-11-27\nx")


def _refused(old: str, new: str) -> list[str]:
    source = SEED.replace(old, new, 1)
    assert source != SEED
    with pytest.raises(CampaignFileError) as refused:
        parse_campaign(source)
    return refused.value.lines("c.toml")


@pytest.mark.parametrize("old, new, line", [
    ('code = "luquan-2019-h2"', 'code = "luquan-2019-h2\\n"', "c.toml: campaign.code: 含有不可见控制字符（U+000A）"),
    ('name = "', 'name = "\\u000b', "c.toml: campaign.name: 含有不可见控制字符（U+000B）"),
    ('name = "', 'name = "\\u0000', "c.toml: campaign.name: 含有不可见控制字符（U+0000）"),
    ('name = "石家庄市鹿泉区2019年下半年跨部门“双随机、一公开”联合抽查"', 'name = """石家庄市鹿泉区\n2019年下半年"""',
     "c.toml: campaign.name: 含有不可见控制字符（U+000A）"),
    ('name = "', 'name = "\\uFFFE', "c.toml: campaign.name: 含有不可见控制字符（U+FFFE）"),
    ('"clerk@office.luquan.example"', '"clerk@office.luquan.example\\u001f"',
     "c.toml: campaign.office_staff[1]: 含有不可见控制字符（U+001F）"),
    ('[campaign]\n', '[campaign]\n"x\\u001b[2J" = 1\n', "c.toml: campaign.x\\u001b[2J: 未知的键（请检查拼写）"),
])
def test_the_campaign_file_names_the_key_holding_a_control_character(old, new, line):
    assert line in _refused(old, new)


@pytest.mark.parametrize("address, problem", [
    ("a..b@x.cn", "@ 前的部分不能有连续的点"), (".a@x.cn", "@ 前的部分不能以点开头或结尾"), ("a@-c.example", "域名中的“-c”不合规"),
])
def test_the_campaign_file_refuses_a_bad_address(address, problem):
    [line] = _refused('"clerk@office.luquan.example"', f'"{address}"')
    assert line.startswith(f"c.toml: campaign.office_staff[1]: 应为电子邮箱地址（{problem}")
    assert line.endswith(f"实际为 “{address}”")


@pytest.mark.parametrize("orig, shown", [
    (ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
     "ValueError: PostgreSQL text fields cannot contain NUL (0x00) bytes"),
    (ValueError('invalid input syntax for type integer: "鹿泉食品厂 13912345678"\nLINE 1: ...'),
     'ValueError: invalid input syntax for type integer: "…"'),
    (ValueError('duplicate key value violates unique constraint "departments_pkey"\nDETAIL: Key (code)=(SJ)'),
     'ValueError: duplicate key value violates unique constraint "departments_pkey"'),
])
def test_a_database_error_shows_neither_its_statement_nor_the_row(orig, shown):
    error = sqlalchemy.exc.DataError("INSERT INTO enterprises (name) VALUES (%(name)s)",
                                     {"name": "鹿泉食品厂 13912345678"}, orig)
    assert "13912345678" in str(error) and "INSERT" in str(error), "SQLAlchemy's own text has both"
    assert internal_failure(error) == shown
