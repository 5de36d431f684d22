"""``ssj import``: all or nothing, every problem placed, update by key, ``--full``, nothing deleted."""

import csv
from datetime import datetime

import openpyxl
from sqlalchemy import select

from tests.conftest import snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.uscc import check_character

ENTERPRISE_HEADER = ["统一社会信用代码", "企业名称", "主体类别", "企业类型", "注册资本（万元）", "成立日期", "登记状态",
                     "所属区域", "住所", "法定代表人", "联系电话", "行业", "信用风险分类"]


def code(body: str) -> str:
    body17 = ("91130110" + body)[:17]
    return body17 + check_character(body17)


def enterprise(uscc: str, name: str = "石家庄华鑫商贸有限公司", capital: str = "800", **over) -> list[str]:
    row = dict(zip(ENTERPRISE_HEADER, [uscc, name, "内资企业", "有限责任公司（自然人投资或控股）", capital, "2015-03-02",
                                       "存续", "鹿泉区", "石家庄市鹿泉区获鹿镇向阳北大街1号", "王伟", "13800000000",
                                       "批发和零售业", "B"]))
    row.update(over)
    return [row[h] for h in ENTERPRISE_HEADER]


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rows_of(db_url, model):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        key = model.__table__.primary_key.columns[0].name
        result = {getattr(r, key): r for r in conn.execute(select(model.__table__))}
    engine.dispose()
    return result


def content_points(db_url, item_code):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        texts = conn.execute(select(orm.InspectionItemContent.text)
                             .where(orm.InspectionItemContent.item_code == item_code)
                             .order_by(orm.InspectionItemContent.position)).scalars().all()
    engine.dispose()
    return texts


def test_the_example_district_imports(loaded, db_url, district):
    enterprises = rows_of(db_url, orm.Enterprise)
    assert len(enterprises) == 2000
    officers = rows_of(db_url, orm.Officer)
    assert 75 <= len(officers) <= 90
    items = rows_of(db_url, orm.InspectionItem)
    assert items["SJ-01"].department_code == "SJ"
    contents = content_points(db_url, "SJ-01")
    assert contents[0] == "企业年度报告公示信息" and len(contents) == 4


def test_import_reports_counts_and_updates_by_key(ready, db_url, tmp_path):
    a, b = code("MA0AAAAA1"), code("MA0AAAAB1")
    first = write_csv(tmp_path / "e.csv", ENTERPRISE_HEADER, [enterprise(a), enterprise(b, capital="500")])
    result = ready("import", "enterprises", first)
    assert result.code == 0
    assert "共 2 行，新增 2，更新 0" in result.out
    correction = write_csv(tmp_path / "fix.csv", ["统一社会信用代码", "注册资本（万元）"], [[a, "1200"]])
    result = ready("import", "enterprises", correction, "--json")
    assert result.code == 0
    import json
    assert json.loads(result.out) == {"kind": "enterprises", "file": str(correction), "rows": 1, "inserted": 0,
                                      "updated": 1, "marked_not_latest": 0}
    rows = rows_of(db_url, orm.Enterprise)
    assert str(rows[a].registered_capital) == "1200"
    assert rows[a].name == "石家庄华鑫商贸有限公司", "a correction file must not blank the columns it lacks"
    assert str(rows[b].registered_capital) == "500"


def test_full_export_marks_missing_rows_and_deletes_nothing(ready, db_url, tmp_path):
    a, b = code("MA0AAAAA1"), code("MA0AAAAB1")
    ready("import", "enterprises", write_csv(tmp_path / "1.csv", ENTERPRISE_HEADER, [enterprise(a), enterprise(b)]))
    result = ready("import", "enterprises", write_csv(tmp_path / "2.csv", ENTERPRISE_HEADER, [enterprise(a)]), "--full")
    assert result.code == 0 and "标记“不在最新名录” 1" in result.out
    rows = rows_of(db_url, orm.Enterprise)
    assert set(rows) == {a, b}
    assert rows[a].in_latest_directory and not rows[b].in_latest_directory
    ready("import", "enterprises", write_csv(tmp_path / "3.csv", ENTERPRISE_HEADER, [enterprise(b)]))
    assert rows_of(db_url, orm.Enterprise)[b].in_latest_directory, "listed again in a later export"


def refused(ssj, db_url, *args):
    before = snapshot(db_url)
    result = ssj(*args)
    assert result.code == 2, result
    assert snapshot(db_url) == before, "a refused import must change nothing"
    return result


def test_every_bad_row_is_placed_and_nothing_is_written(loaded, db_url, tmp_path):
    good = code("MA0AAAAA1")
    bad_check = good[:17] + ("1" if good[17] != "1" else "2")
    path = write_csv(tmp_path / "bad.csv", ENTERPRISE_HEADER, [
        enterprise(good),
        enterprise(bad_check),
        enterprise(code("MA0AAAAC1"), capital="-5"),
        enterprise(code("MA0AAAAD1"), 成立日期="2019-02-30"),
        enterprise(good),
        enterprise(code("MA0AAAAE1"), 主体类别="国有企业", 企业名称=""),
    ])
    result = refused(loaded, db_url, "import", "enterprises", path)
    p = str(path)
    assert result.err_lines == [
        f"{p}:3: 统一社会信用代码: “{bad_check}”：统一社会信用代码校验位错误：应为“{good[17]}”，实际为“{bad_check[17]}”",
        f"{p}:4: 注册资本（万元）: 不能为负数（实际为 -5）",
        f"{p}:5: 成立日期: “2019-02-30”不是存在的日期",
        f"{p}:6: 统一社会信用代码: “{good}”与第 2 行重复",
        f"{p}:7: 企业名称: 必填项为空",
        f"{p}:7: 主体类别: “国有企业”不是允许的值（应为 内资企业、外资企业、个体工商户、农民专业合作社 之一）",
        "导入被拒绝：共 6 个问题，数据库未作任何更改。",
    ]


def test_full_width_uscc_is_normalised(ready, db_url, tmp_path):
    a = code("MA0AAAAA1")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in a.lower())
    path = write_csv(tmp_path / "e.csv", ENTERPRISE_HEADER, [enterprise(f" {wide} ")])
    assert ready("import", "enterprises", path).code == 0
    assert set(rows_of(db_url, orm.Enterprise)) == {a}


def test_missing_and_unknown_headers(ready, db_url, tmp_path):
    header = ["序号"] + [h for h in ENTERPRISE_HEADER if h != "成立日期"]
    path = write_csv(tmp_path / "e.csv", header, [["1"] + enterprise(code("MA0AAAAA1"))[:5] + enterprise("x")[6:]])
    result = refused(ready, db_url, "import", "enterprises", path)
    new = code("MA0AAAAA1")
    assert result.err_lines[:2] == [
        f"{path}: 警告：忽略未知的列 “序号”",
        f"{path}:2: 统一社会信用代码: “{new}”是新条目，但文件缺少必需的列 “成立日期”（更正文件只能更新已有条目）",
    ]


def test_missing_key_column_is_a_whole_file_problem(ready, db_url, tmp_path):
    path = write_csv(tmp_path / "e.csv", ENTERPRISE_HEADER[1:], [enterprise("x")[1:]])
    result = refused(ready, db_url, "import", "enterprises", path)
    assert result.err_lines[0] == f"{path}: 缺少必需的列“统一社会信用代码”（或英文列名 uscc）"


def test_unknown_department_for_an_officer(loaded, db_url, tmp_path):
    path = write_csv(tmp_path / "o.csv", ["执法证号", "姓名", "部门代码", "执法证有效期至"],
                     [["13011099001", "张三", "QQ", "2025-01-01"]])
    result = refused(loaded, db_url, "import", "officers", path)
    assert result.err_lines[0] == f"{path}:2: 部门代码: “QQ”不是已导入的部门代码（请先导入部门名录）"


def test_empty_file_and_header_only_file(ready, db_url, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert refused(ready, db_url, "import", "departments", empty).err_lines[0] == f"{empty}: 文件为空，没有表头和数据行"
    header_only = write_csv(tmp_path / "h.csv", ["部门代码", "部门名称"], [])
    assert refused(ready, db_url, "import", "departments", header_only).err_lines[0] == f"{header_only}: 文件没有数据行"


def test_gb18030_file_with_fullwidth_parenthesis_header(ready, db_url, tmp_path):
    header = [h.replace("（万元）", "(万元)") for h in ENTERPRISE_HEADER]
    path = write_csv(tmp_path / "gbk.csv", header, [enterprise(code("MA0AAAAA1"), 企业名称="石家庄鑫泰建材有限公司")],
                     encoding="gb18030")
    assert ready("import", "enterprises", path).code == 0
    assert rows_of(db_url, orm.Enterprise)[code("MA0AAAAA1")].name == "石家庄鑫泰建材有限公司"


def test_xlsx_with_date_and_number_cells(ready, db_url, tmp_path):
    path = tmp_path / "e.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["鹿泉区企业名录（导出）"])
    ws.append(ENTERPRISE_HEADER)
    row = enterprise(code("MA0AAAAA1"))
    row[4] = 1000
    row[5] = datetime(2019, 11, 27)
    ws.append(row)
    ws.append([None] * 13)
    bad = enterprise(code("MA0AAAAB1"))
    bad[5] = "明年"
    ws.append(bad)
    wb.save(path)
    result = refused(ready, db_url, "import", "enterprises", path)
    assert result.err_lines[0] == f"{path}:5: 成立日期: “明年”不是日期（应为 YYYY-MM-DD 或 YYYY/M/D）"
    ws.delete_rows(5)
    wb.save(path)
    assert ready("import", "enterprises", path).code == 0
    stored = rows_of(db_url, orm.Enterprise)[code("MA0AAAAA1")]
    assert str(stored.registered_capital) == "1000" and stored.established_on.isoformat() == "2019-11-27"


def test_items_keep_their_content_points_on_reimport(loaded, db_url, tmp_path):
    header = ["事项编码", "部门代码", "抽查事项", "检查内容"]
    path = write_csv(tmp_path / "i.csv", header, [["SJ-01", "SJ", "企业公示信息抽查", "年度报告；即时信息"]])
    assert loaded("import", "items", path).code == 0
    contents = content_points(db_url, "SJ-01")
    assert contents == ["年度报告", "即时信息"]


def test_a_bad_file_in_the_middle_of_a_large_import_changes_nothing(loaded, db_url, tmp_path):
    rows = [enterprise(code(f"MA{n:07d}")) for n in range(12_000)]
    rows[11_000][5] = "2019-13-01"
    path = write_csv(tmp_path / "big.csv", ENTERPRISE_HEADER, rows)
    result = refused(loaded, db_url, "import", "enterprises", path)
    assert result.err_lines[0].startswith(f"{path}:11002: 成立日期:")
