"""A corpus of hostile and broken files for every importer and the campaign file.

Each is refused with a Chinese message naming the file and, where there is one,
the row and column — exit 2, nothing changed — or, when it is only odd text
(formula-like names, SQL-looking text), stored verbatim as text and written back
escaped on every XLSX and CSV export.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign, snapshot
from tests.integration.conftest import CODE, HEADER
from tests.integration.test_results import fill, team_of

INJECTIONS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C notepad'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]
SQL = "'); DROP TABLE enterprises; --"


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _csv(path: Path, header, rows, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _corpus(folder: Path, district: dict[str, Path]) -> list[tuple[str, str, Path, list[str]]]:
    """(importer, what, file, words the message must carry) for every broken file."""
    header, rows = _rows(district["enterprises"])
    col = {name: i for i, name in enumerate(header)}
    cases = []

    def case(kind, what, path, *words):
        cases.append((kind, what, path, [path.name, *words]))

    mixed = folder / "mixed-encodings.csv"
    with open(mixed, "wb") as fh:
        fh.write((",".join(header) + "\n").encode("utf-8"))
        fh.write((",".join(rows[0]) + "\n").encode("utf-8"))
        fh.write((",".join(rows[1]) + "\n").encode("gb18030"))
    case("enterprises", "UTF-8 and GB18030 in one file", mixed, "第 3 行起不是 UTF-8")
    binary = folder / "binary.csv"
    binary.write_bytes(bytes(range(128, 256)) * 64)
    case("enterprises", "not text at all", binary, "无法识别文件编码")
    huge = [list(rows[0])]
    huge[0][col["行业"]] = "制" * 140_000  # over Python's csv field limit (131,072)
    case("enterprises", "a field over the csv module's limit", _csv(folder / "huge-field.csv", header, huge),
         ":2:", "行业", "内容过长")
    book = openpyxl.Workbook()
    book.active.append(header)
    long_row = list(rows[0])
    long_row[col["住所"]] = "地" * 32_767  # Excel's own cell limit
    book.active.append(long_row)
    book.save(folder / "excel-limit.xlsx")
    case("enterprises", "an XLSX cell at Excel's 32,767 characters", folder / "excel-limit.xlsx", ":2:", "住所",
         "内容过长")
    empty = folder / "million-empty-lines.csv"
    with open(empty, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n" + "\n" * 1_000_000)
    case("enterprises", "1,000,000 empty lines", empty, "没有数据行")
    typed = [list(rows[0]), list(rows[1])]
    typed[0][col["注册资本（万元）"]] = SQL
    typed[1][col["成立日期"]] = "2019-13-45"
    case("enterprises", "wrong types (and SQL-looking text in a number)",
         _csv(folder / "wrong-types.csv", header, typed), ":2:", "注册资本（万元）", ":3:", "成立日期")
    data = (folder / "excel-limit.xlsx").read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    case("enterprises", "a truncated XLSX zip", folder / "truncated.xlsx", "不是有效的 XLSX 文件")
    (folder / "renamed.xlsx").write_bytes(b"%PDF-1.4\n" + bytes(200))
    case("officers", "a PDF renamed .xlsx", folder / "renamed.xlsx", "不是有效的 XLSX 文件")
    o_header, o_rows = _rows(district["officers"])
    wrong = [list(o_rows[0])]
    wrong[0][o_header.index("执法证有效期至")] = "明年"
    case("officers", "a date that is not one", _csv(folder / "officers.csv", o_header, wrong), ":2:", "执法证有效期至")
    d_header, d_rows = _rows(district["departments"])
    case("departments", "a header only GB18030 would read, body UTF-8",
         _csv(folder / "departments.csv", d_header, d_rows[:1], encoding="gb18030").with_name("departments.csv"),
         "departments.csv")
    i_header, i_rows = _rows(district["items"])
    case("items", "the key column missing", _csv(folder / "items.csv", i_header[1:3], [r[1:3] for r in i_rows[:2]]),
         "缺少")
    return cases


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, district):
    return _corpus(tmp_path_factory.mktemp("hostile"), district)


def test_every_broken_file_is_refused_with_its_place_and_changes_nothing(loaded, db_url, corpus):
    before = snapshot(db_url)
    for kind, what, path, words in corpus:
        if path.name == "departments.csv":
            continue  # a valid GB18030 file: imported below, not refused
        result = loaded("import", kind, path)
        assert result.code == 2, (what, result.out, result.err)
        for word in words:
            assert word in result.err, (what, word, result.err[:500])
        assert "Traceback" not in result.err
    broken = [c[2] for c in corpus if c[2].suffix == ".xlsx" or c[2].name == "mixed-encodings.csv"]
    for command in (("confirm", "import"), ("results", "import")):  # the departments' and officers' returned files
        for path in broken:
            result = loaded(*command, path)
            assert result.code == 2 and path.name in result.err and "Traceback" not in result.err, (command, result.err)
    assert snapshot(db_url) == before, "no broken file changed anything"


def test_a_gb18030_file_is_read_as_such(loaded, corpus):
    [(kind, _, path, _)] = [c for c in corpus if c[2].name == "departments.csv"]
    result = loaded("import", kind, path)
    assert result.code == 0, result.err


def test_formula_like_and_sql_like_names_are_kept_as_text_and_escaped_on_export(assigned, db_url, tmp_path):
    ssj, sampled, _, _ = assigned
    header = ["统一社会信用代码", "企业名称", "住所"]
    names = dict(zip(sampled, [*INJECTIONS, SQL]))
    correction = _csv(tmp_path / "correction.csv", header,
                      [[uscc, name, f"{name} 地址"] for uscc, name in names.items()])
    result = ssj("import", "enterprises", correction)
    assert result.code == 0, result.err
    assert "enterprises" in snapshot(db_url), "the table is still there"

    assert ssj("forms", CODE, "--out", tmp_path / "forms", "--now", "2019-12-04T09:00").code == 0
    for uscc, name in names.items():
        [form] = (tmp_path / "forms" / "一企一表").glob(f"{uscc}-*.xlsx")
        sheet = openpyxl.load_workbook(form).worksheets[0]
        cells = [c for row in sheet.iter_rows() for c in row if c.value == name]
        assert cells, (name, "kept verbatim")
        assert all(c.data_type == "s" for c in cells), "text, never a formula"
        if name.startswith(("=", "+", "-", "@")):
            assert all(c.quotePrefix for c in cells), "marked as text for Excel and WPS"
    schedule = openpyxl.load_workbook(tmp_path / "forms" / "实地核查安排.xlsx").active
    written = [c for row in schedule.iter_rows() for c in row if c.value in names.values()]
    assert len(written) == len(names) and all(c.data_type == "s" for c in written)


def test_csv_exports_escape_formula_like_text(tmp_path):
    from workflow.files.publication import write_exchange
    from workflow.publication import EXCHANGE_KEYS

    record = {key: "" for key in EXCHANGE_KEYS} | {"企业名称": INJECTIONS[0], "备注": SQL}
    write_exchange([record], tmp_path / "x.jsonl", tmp_path / "x.csv")
    [row] = list(csv.DictReader(open(tmp_path / "x.csv", encoding="utf-8-sig")))
    assert row["企业名称"] == "'" + INJECTIONS[0] and row["备注"] == SQL
    assert INJECTIONS[0] in (tmp_path / "x.jsonl").read_text(encoding="utf-8"), "machines get the value as recorded"


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfe\x00garbage" * 100, ["UTF-8"]),
    ("[campaign]\ncode = 5\n".encode("utf-8"), ["campaign.code"]),
    ("[campaign\ncode = 'x'\n".encode("utf-8"), ["TOML"]),
    (("[campaign]\nname = '" + "名" * 200_000 + "'\n").encode("utf-8"), ["campaign"]),
])
def test_a_broken_campaign_file_is_refused(loaded, db_url, tmp_path, content, words):
    path = tmp_path / "campaign.toml"
    path.write_bytes(content)
    before = snapshot(db_url)
    result = loaded("campaign", "create", path, "--now", "2019-11-26T10:00")
    assert result.code == 2 and "campaign.toml" in result.err, result.err
    for word in words:
        assert word in result.err, result.err[:400]
    assert snapshot(db_url) == before


# --- text at the door (issue 14, cases 4 and 7) -----------------------------------------------------------------

NAME_COLUMN = {"departments": "部门名称", "items": "抽查事项", "officers": "姓名", "enterprises": "企业名称"}
# (what the file holds, the character it stands for). A CSV holds the character itself; an XLSX holds what Excel and
# WPS write for it: a C0 character or U+FFFE is not allowed in XML, so they escape it (_x000B_ is Word's manual line
# break pasted into a cell); a C1 character, a tab and a line feed are written as they are.
IN_CSV = [("\x0b", "000B"), ("\x1f", "001F"), ("\x00", "0000"), ("\ufffe", "FFFE")]
IN_XLSX = [("_x000B_", "000B"), ("_x001F_", "001F"), ("_x0000_", "0000"), ("_xFFFE_", "FFFE"), ("\x85", "0085"),
           ("\t", "0009")]


def _xlsx(path: Path, header, rows) -> Path:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    book.save(path)
    return path


def _refused_exactly(result, *lines):
    assert result.code == 2, result.err
    assert result.err_lines == [*lines, f"导入被拒绝：共 {len(lines)} 个问题，数据库未作任何更改。"], result.err


@pytest.mark.stress  # heavy: make stress (and .ci/run)
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", list(NAME_COLUMN))
def test_a_control_character_in_a_name_is_refused_by_every_importer(loaded, db_url, tmp_path, district, kind, suffix):
    header, rows = _rows(district[kind])
    column = header.index(NAME_COLUMN[kind])
    before = snapshot(db_url)
    for n, (written, point) in enumerate(IN_CSV if suffix == "csv" else IN_XLSX):
        changed = [list(r) for r in rows[:3]]
        changed[2][column] = changed[2][column][:2] + written + changed[2][column][2:]
        path = tmp_path / f"{kind}-{n}.{suffix}"
        (_csv if suffix == "csv" else _xlsx)(path, header, changed)
        result = loaded("import", kind, path)
        _refused_exactly(result, f"{path}:4: {NAME_COLUMN[kind]}: 含有不可见控制字符（U+{point}）")
    assert snapshot(db_url) == before, "no file changed anything"


def test_a_list_may_run_over_lines_a_name_may_not(loaded, db_url, tmp_path, district):
    header, rows = _rows(district["items"])
    contents, basis, name = (header.index(h) for h in ("检查内容", "检查依据", "抽查事项"))
    row = list(rows[0])
    row[contents], row[basis] = "检查一\n检查二\r\n检查三", "《条例》\n第十条"
    assert loaded("import", "items", _csv(tmp_path / "lines.csv", header, [row])).code == 0
    row[name] = "抽查\n事项"
    _refused_exactly(loaded("import", "items", _csv(tmp_path / "name.csv", header, [row])),
                     f"{tmp_path / 'name.csv'}:2: 抽查事项: 含有不可见控制字符（U+000A）")


@pytest.mark.parametrize("address, problem", [
    ("a..b@x.cn", "@ 前的部分不能有连续的点"),
    (".a@x.cn", "@ 前的部分不能以点开头或结尾"),
    ("a@-c.example", "域名中的“-c”不合规（只能有英文字母、数字和连字符，连字符不能在首尾，每段最多 63 个字符；中文域名请写成 xn-- 形式）"),
])
def test_a_bad_email_address_is_refused_where_it_stands(loaded, db_url, tmp_path, district, address, problem):
    before = snapshot(db_url)
    header, rows = _rows(district["departments"])
    changed = [list(r) for r in rows[:2]]
    changed[1][header.index("联络人邮箱")] = address
    path = _csv(tmp_path / "departments.csv", header, changed)
    _refused_exactly(loaded("import", "departments", path),
                     f"{path}:3: 联络人邮箱: “{address}”不是有效的电子邮箱地址：{problem}")
    o_header, o_rows = _rows(district["officers"])
    changed = [list(o_rows[0])]
    changed[0][o_header.index("电子邮箱")] = address
    path = _csv(tmp_path / "officers.csv", o_header, changed)
    _refused_exactly(loaded("import", "officers", path), f"{path}:2: 电子邮箱: “{address}”不是有效的电子邮箱地址：{problem}")
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(
        '"clerk@office.luquan.example"]', f'"{address}"]', 1), encoding="utf-8")
    result = loaded("campaign", "create", campaign, "--now", "2019-11-26T10:00")
    assert result.code == 2
    assert result.err_lines == [f"{campaign}: campaign.office_staff[1]: 应为电子邮箱地址（{problem}），实际为 “{address}”"]
    assert snapshot(db_url) == before


@pytest.mark.parametrize("old, new, line", [
    ('name = "石家庄市', 'name = "石家庄市\\u000b', "campaign.name: 含有不可见控制字符（U+000B）"),
    ('name = "石家庄市', 'name = "石家庄市\\u0000', "campaign.name: 含有不可见控制字符（U+0000）"),
    ('address = "', 'address = "\\u001f', "campaign.contact.address: 含有不可见控制字符（U+001F）"),
    ('code = "luquan-2019-h2"', 'code = "luquan-2019-h2\\n"', "campaign.code: 含有不可见控制字符（U+000A）"),
])
def test_a_control_character_in_the_campaign_file_is_refused_by_its_key(loaded, db_url, tmp_path, old, new, line):
    """The code with a trailing newline would otherwise be a second campaign that looks like the first."""
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    before = snapshot(db_url)
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "campaign.toml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    for command in ("create", "check"):
        result = loaded("campaign", command, path, "--now", "2019-11-26T10:00")
        assert result.code == 2 and result.err_lines == [f"{path}: {line}"], result.err
    assert snapshot(db_url) == before


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_control_character_in_returned_answers_is_refused(loaded, db_url, tmp_path, suffix):
    sampled = draw_campaign(loaded)["sampled"]
    before = snapshot(db_url)
    escaped = suffix == "xlsx"  # how Excel writes U+000B and U+0000
    rows = [[CODE + "\n", "SJ", sampled[0], "否", "不涉及" + ("_x0000_" if escaped else "\x00")],
            [CODE, "SJ", sampled[1], "否", "不涉及\n本部门" + ("_x000B_" if escaped else "\x0b") + "职责"]]
    path = (_csv if suffix == "csv" else _xlsx)(tmp_path / f"SJ.{suffix}", HEADER, rows)
    result = loaded("confirm", "import", path, "--user", "contact@sj.luquan.example", "--now", "2019-11-28T15:00")
    _refused_exactly(result, f"{path}:2: 抽查任务编号: 含有不可见控制字符（U+000A）",
                     f"{path}:2: 不检查理由: 含有不可见控制字符（U+0000）", f"{path}:3: 不检查理由: 含有不可见控制字符（U+000B）")
    assert snapshot(db_url) == before


def test_a_control_character_in_a_filled_form_is_refused_by_its_cell(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[5]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    mapping = fill(path, officers=team_of(teams, uscc), note="情况\x85说明",
                   codes={"SJ-02": ("E", "超范围_x000B_经营", "2"), "SW-01": ("E", "第一行\n第二行", "2")})
    before = snapshot(db_url)
    result = ssj("results", "import", path, "--now", "2019-12-13T09:00")
    assert result.code == 2, result.err
    assert result.err_lines == [f"{path.name}!一企一表!{mapping['note_cell']}: 含有不可见控制字符（U+0085）",
                                f"{path.name}!一企一表!F{mapping['item:SJ-02']}: 含有不可见控制字符（U+000B）",
                                "导入被拒绝：共 2 个问题，数据库未作任何更改。"], "a finding may run over lines"
    assert snapshot(db_url) == before


def test_a_database_error_shows_neither_its_statement_nor_the_row(ready, db_url):
    """What ``ssj`` prints for an error the database raises (``内部错误：…``), from a real driver's error."""
    from sqlalchemy import text
    from sqlalchemy.exc import StatementError

    from workflow.persistence.database import internal_failure, make_engine

    engine = make_engine(db_url)
    insert = text("INSERT INTO departments (code, name) VALUES (:code, :name)")
    try:  # PostgreSQL refuses the NUL, SQLite the missing columns
        with pytest.raises(StatementError) as raised, engine.begin() as conn:
            conn.execute(insert, {"code": "SJ", "name": "鹿泉区\x00 13912345678"})
    finally:
        engine.dispose()
    assert "13912345678" in str(raised.value) and "INSERT" in str(raised.value)
    shown = internal_failure(raised.value)
    assert "13912345678" not in shown and "INSERT" not in shown and "\n" not in shown
    assert shown.startswith(("IntegrityError: NOT NULL constraint failed", "DataError: PostgreSQL text fields cannot"))


def test_a_control_character_in_an_argument_is_refused_before_anything(loaded, db_url):
    """Arguments are text at the door too: a reason may run over lines, a witness or a code may not."""
    draw = draw_campaign(loaded)
    uscc = draw["sampled"][0]
    before = snapshot(db_url)
    for args, line in [
        (("withdraw", CODE + "\n", uscc, "--reason", "企业已注销"), "错误：'任务编号' 的取值无效：含有不可见控制字符（U+000A）"),
        (("withdraw", CODE, uscc, "--reason", "企业\x0b已注销"), "错误：'--reason' 的取值无效：含有不可见控制字符（U+000B）"),
        (("withdraw", CODE, uscc, "--reason", "企业已注销", "--user", "a..b@x.cn"),
         "错误：--user 的取值无效：“a..b@x.cn”不是有效的电子邮箱地址：@ 前的部分不能有连续的点"),
        (("withdraw", CODE, uscc, "--reason", "企业已注销", "--user", "clerk@office\x1f.luquan.example"),
         "错误：--user 的取值无效：含有不可见控制字符（U+001F）"),
    ]:
        result = loaded(*args, "--now", "2019-11-28T09:00")
        assert result.code == 2 and result.err_lines[-1] == line, result.err
    assert snapshot(db_url) == before
    result = loaded("withdraw", CODE, uscc, "--reason", "企业已注销\n（经核实）", "--now", "2019-11-28T09:00")
    assert result.code == 0, result.err
