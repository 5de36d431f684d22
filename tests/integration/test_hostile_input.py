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

from tests.conftest import snapshot
from tests.integration.conftest import CODE

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
