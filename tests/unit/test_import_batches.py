"""The import's memoised column parsers (issue 19) must give exactly what parsing every cell gives — the same
records, the same problems in the same places."""

import random
from datetime import datetime
from decimal import Decimal

from workflow.directory import DIRECTORIES
from workflow.importing import MEMO_LIMIT, Problems, UnreadableCell, parse_row, parse_rows, plan_header
from workflow.uscc import check_character

ENTERPRISES = DIRECTORIES["enterprises"]
HEADER = [c.header for c in ENTERPRISES.columns]


def code(n: int) -> str:
    body17 = f"91130110MA{n:07d}"
    return body17 + check_character(body17)


def row(n: int, **over) -> list:
    cells = dict(zip(HEADER, [code(n), f"企业{n}", "内资企业", "有限责任公司", "800", "2015-03-02", "存续", "鹿泉区",
                              "获鹿镇向阳北大街1号", "王伟", "13800000000", "批发和零售业", "B"]))
    cells.update(over)
    return [cells[h] for h in HEADER]


def plan(problems):
    return plan_header(ENTERPRISES, HEADER, problems)


def by_batch(batch, size=7):
    problems = Problems("f.csv")
    p = plan(problems)
    records = []
    for start in range(0, len(batch), size):
        records += parse_rows(p, batch[start:start + size], problems)
    return records, problems.lines()


def test_a_remembered_value_hides_no_later_refusal():
    problems = Problems("f.csv")
    p = plan(problems)
    assert parse_row(p, 2, row(2, 成立日期="2019-02-28"), problems) is not None
    assert parse_row(p, 3, row(3, 成立日期="2019-02-30"), problems) is None  # refusals are not remembered
    assert parse_row(p, 4, row(4, 成立日期="2019-02-30"), problems) is None
    assert parse_row(p, 5, row(5, 成立日期=" 2019-02-28 "), problems)["established_on"].day == 28
    assert parse_row(p, 6, row(6, 登记状态="存续\x0b"), problems) is None  # the control character first
    assert problems.lines() == [
        "f.csv:3: 成立日期: “2019-02-30”不是存在的日期",
        "f.csv:4: 成立日期: “2019-02-30”不是存在的日期",
        "f.csv:6: 登记状态: 含有不可见控制字符（U+000B）",
    ]


def test_a_full_memo_still_parses_every_cell():
    problems = Problems("f.csv")
    p = plan(problems)
    rows = [(n, row(n, **{"注册资本（万元）": str(n)})) for n in range(2, MEMO_LIMIT + 300)]
    rows.append((MEMO_LIMIT + 300, row(1, **{"注册资本（万元）": "-1"})))
    records = parse_rows(p, rows[:MEMO_LIMIT], problems) + parse_rows(p, rows[MEMO_LIMIT:], problems)
    assert [r["registered_capital"] for _, r in records] == [Decimal(n) for n in range(2, MEMO_LIMIT + 300)]
    assert problems.lines() == [f"f.csv:{MEMO_LIMIT + 300}: 注册资本（万元）: 不能为负数（实际为 -1）"]


def test_a_batch_with_every_kind_of_problem_keeps_the_good_rows_and_words_each_problem():
    batch = [(n, row(n)) for n in range(2, 40)]
    batch[3] = (5, row(5, 企业名称=""))  # required, empty
    batch[8] = (10, row(10, 主体类别="公司"))
    batch[9] = (11, row(11, 企业名称="名" * 201))
    batch[15] = (17, row(17, 主体类别="内资企业", **{"注册资本（万元）": ""}))  # a row rule
    batch[16] = (18, row(18, 主体类别="个体工商户", **{"注册资本（万元）": ""}))  # fine: no capital needed
    batch[20] = (22, row(22, 统一社会信用代码=code(22)[:-1] + "0" if code(22)[-1] != "0" else code(22)[:-1] + "1"))
    batch[25] = (27, row(27, 住所="一行\n两行"))
    batch[30] = (32, row(32, 联系电话="电话"))
    batch[31] = (33, row(33)[:5])  # a short row
    batch[32] = (34, [*row(34)[:5], datetime(2015, 3, 2), *row(34)[6:]])  # a spreadsheet's date cell
    batch[33] = (35, row(35, 所属区域=" ", 信用风险分类=""))  # optional, blank
    records, lines = by_batch(batch)
    assert len(lines) == 9 and len(records) == len(batch) - 8
    assert {n for n, _ in records}.isdisjoint({5, 10, 11, 17, 22, 27, 32, 33})
    assert [line.split(":")[1] for line in lines] == ["5", "10", "11", "17", "22", "27", "32", "33", "33"]


def _careless_cells(rng, n: int) -> list:
    """Row ``n`` as a careless clerk or a spreadsheet might give it: a few cells changed at random."""
    cells, base = row(n), row(n)
    changes = [
        (0, lambda c: c.lower()), (0, lambda c: "Ａ" + c[1:]), (0, lambda c: c[:17]), (0, lambda c: c[:5] + "O" + c[6:]),
        (0, lambda c: f" {c} "), (0, lambda c: c[:17] + ("1" if c[17] != "1" else "2")), (0, lambda c: ""),
        (1, lambda c: ""), (1, lambda c: "名" * 201), (1, lambda c: c + "\x0b"), (1, lambda c: c + "\u3000"),
        (1, lambda c: None), (1, lambda c: f" {c} "), (9, lambda c: c + "  "), (2, lambda c: "公司"),
        (2, lambda c: "个体工商户"), (2, lambda c: " 内资企业"),
        (3, lambda c: ""), (3, lambda c: "类" * 101), (4, lambda c: ""), (4, lambda c: "-1"), (4, lambda c: "1,200.5"),
        (4, lambda c: 800.0), (4, lambda c: "１２"), (5, lambda c: "2019-02-30"), (5, lambda c: "2019/2/3"),
        (5, lambda c: datetime(2015, 3, 2)), (5, lambda c: "43000"), (5, lambda c: UnreadableCell("公式未计算")),
        (6, lambda c: "在业"), (6, lambda c: "存 续"), (8, lambda c: "一行\n两行"), (8, lambda c: "住" * 501),
        (10, lambda c: "电话"), (10, lambda c: "0311-1234567 转 8"), (10, lambda c: "１３８００００００００"),
        (10, lambda c: "1" * 41), (10, lambda c: ""), (12, lambda c: "E"), (12, lambda c: ""),
    ]
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        column, change = rng.choice(changes)
        cells[column] = change(base[column])
    if rng.random() < 0.02:
        cells = cells[:rng.randrange(1, 13)]
    return cells


def test_column_by_column_gives_what_row_by_row_gives():
    """The import checks a batch column by column (``column_checks``) and only the rows it doubts one by
    one: the records and the problem lines must be exactly those of ``parse_row`` on every row, whatever
    the batch size and whatever a careless file holds."""
    rng = random.Random(19)
    rows = [(n, _careless_cells(rng, n)) for n in range(2, 3002)]
    one_by_one = Problems("f.csv")
    p = plan(one_by_one)
    expected = [(n, r) for n, values in rows if (r := parse_row(p, n, values, one_by_one)) is not None]
    assert 300 < one_by_one.total < 2000 and len(expected) > 1500  # the file has both, many of each
    for size in (1, 7, 1000, 5000):
        records, lines = by_batch(rows, size)
        assert records == expected and lines == one_by_one.lines(), size


def test_a_correction_file_is_checked_column_by_column_as_row_by_row():
    """A file with some columns only (a correction): the columns it lacks are neither read nor defaulted."""
    header = ["统一社会信用代码", "联系电话", "登记状态"]
    rng = random.Random(3)
    rows = []
    for n in range(2, 600):
        cells = _careless_cells(rng, n)
        rows.append((n, [cells[0], cells[10], cells[6]] if len(cells) == 13 else cells[:2]))
    one_by_one, batched = Problems("f.csv"), Problems("f.csv")
    p, q = plan_header(ENTERPRISES, header, one_by_one), plan_header(ENTERPRISES, header, batched)
    expected = [(n, r) for n, values in rows if (r := parse_row(p, n, values, one_by_one)) is not None]
    assert parse_rows(q, rows, batched) == expected and batched.lines() == one_by_one.lines()
    assert one_by_one.total > 30 and set(expected[0][1]) == {"uscc", "phone", "status"}
