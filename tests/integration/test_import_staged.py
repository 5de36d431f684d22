"""``ssj import enterprises`` on PostgreSQL (COPY into a staging table, one merge): all or nothing up to the last
row, updates by key, problems found by query listed as if found in row order, memory flat in the file's size."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import CLERK
from tests.integration.test_import_directories import ENTERPRISE_HEADER, code, enterprise, refused, rows_of, write_csv
from workflow.importing import MAX_PROBLEM_LINES
from workflow.persistence import orm

postgresql = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@postgresql
def test_a_repeat_in_the_last_row_refuses_the_whole_file(ready, db_url, tmp_path):
    rows = [enterprise(code(f"MB{n:07d}")) for n in range(6_000)]
    rows.append(enterprise(rows[0][0], name="重复的企业"))
    path = write_csv(tmp_path / "big.csv", ENTERPRISE_HEADER, rows)
    result = refused(ready, db_url, "import", "enterprises", path)
    assert result.err_lines == [f"{path}:6002: 统一社会信用代码: “{rows[0][0]}”与第 2 行重复",
                                "导入被拒绝：共 1 个问题，数据库未作任何更改。"]
    assert rows_of(db_url, orm.Enterprise) == {}


@postgresql
def test_a_reimport_updates_known_keys_adds_new_ones_and_full_marks_the_rest(ready, db_url, tmp_path):
    keys = [code(f"MC{n:07d}") for n in range(30)]
    first = write_csv(tmp_path / "first.csv", ENTERPRISE_HEADER, [enterprise(k) for k in keys[:20]])
    assert "共 20 行，新增 20，更新 0" in ready("import", "enterprises", first).out
    second = write_csv(tmp_path / "second.csv", ENTERPRISE_HEADER,
                       [enterprise(k, capital="1500") for k in keys[10:30]])
    result = ready("import", "enterprises", second, "--full")
    assert result.code == 0, result
    assert "共 20 行，新增 10，更新 10" in result.out
    stored = rows_of(db_url, orm.Enterprise)
    assert {k for k, r in stored.items() if r.in_latest_directory} == set(keys[10:])
    assert {float(stored[k].registered_capital) for k in keys[10:]} == {1500.0}
    assert {float(stored[k].registered_capital) for k in keys[:10]} == {800.0}
    correction = write_csv(tmp_path / "fix.csv", ["统一社会信用代码", "企业名称"], [[keys[0], "更正后的名称"]])
    assert ready("import", "enterprises", correction).code == 0
    assert rows_of(db_url, orm.Enterprise)[keys[0]].name == "更正后的名称"
    assert rows_of(db_url, orm.Enterprise)[keys[0]].established_on is not None


def test_problems_found_by_query_are_listed_in_row_order_with_the_first_200(ready, db_url, tmp_path):
    rows = []
    for n in range(300):  # row 2n+2 bad in a cell (found while reading), row 2n+3 a repeat (found by query)
        rows.append(enterprise(code(f"MD{n:07d}"), capital="-1"))
        rows.append(enterprise(code("ME0000000")))
    path = write_csv(tmp_path / "bad.csv", ENTERPRISE_HEADER, rows)
    result = refused(ready, db_url, "import", "enterprises", path)
    lines = result.err_lines
    assert len(lines) == MAX_PROBLEM_LINES + 2
    assert lines[0] == f"{path}:2: 注册资本（万元）: 不能为负数（实际为 -1）"
    assert lines[1] == f"{path}:4: 注册资本（万元）: 不能为负数（实际为 -1）"
    assert lines[2] == f"{path}:5: 统一社会信用代码: “{code('ME0000000')}”与第 3 行重复"
    assert lines[MAX_PROBLEM_LINES - 2] == f"{path}:201: 统一社会信用代码: “{code('ME0000000')}”与第 3 行重复"
    assert lines[MAX_PROBLEM_LINES - 1] == f"{path}:202: 注册资本（万元）: 不能为负数（实际为 -1）"
    assert lines[-2:] == [f"{path}: 另有 {599 - MAX_PROBLEM_LINES} 个问题未列出",
                          "导入被拒绝：共 599 个问题，数据库未作任何更改。"]


def _peak_rss_mb(db_url: str, path: Path) -> float:
    """``ssj import enterprises`` in a process of its own; that process's peak RSS in MB."""
    ssj = str(Path(sys.executable).with_name("ssj"))
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_USER": CLERK}
    with open(path.with_suffix(".err"), "w+b") as err:
        proc = subprocess.Popen([ssj, "import", "enterprises", str(path)], env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        assert os.waitstatus_to_exitcode(status) == 0, err.read().decode()
    return usage.ru_maxrss / 1024


def _many(path: Path, prefix: str, count: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(ENTERPRISE_HEADER) + "\n")
        for n in range(count):
            fh.write(",".join(enterprise(code(f"{prefix}{n:07d}"))) + "\n")
    return path


@pytest.mark.stress  # 220,000 rows imported: make stress, not make test
@postgresql
def test_the_memory_of_an_import_does_not_grow_with_the_file(ready, db_url, tmp_path):
    small = _peak_rss_mb(db_url, _many(tmp_path / "small.csv", "MF", 20_000))
    large = _peak_rss_mb(db_url, _many(tmp_path / "large.csv", "MG", 200_000))
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(orm.Enterprise)).scalar_one() == 220_000
    finally:
        engine.dispose()
    print(f"peak RSS {small:.0f} MB for 20,000 rows, {large:.0f} MB for 200,000")
    assert large - small < 8, f"peak RSS {small:.0f} MB for 20,000 rows, {large:.0f} MB for 200,000"


@postgresql
def test_text_copy_escapes_stored_as_written_first_import_and_reimport(ready, db_url, tmp_path):
    """The COPY text lines are built by the importer: a backslash, a typed ``\\N`` and an empty optional cell
    are stored as they are, when copied straight into the empty table and when staged and merged."""
    keys = [code(f"MH{n:07d}") for n in range(3)]
    odd = {"企业名称": "甲\\乙有限公司", "住所": "\\N", "行业": "", "注册资本（万元）": "1E+3", "法定代表人": "王\\t伟"}
    first = write_csv(tmp_path / "first.csv", ENTERPRISE_HEADER,
                      [enterprise(keys[0], **odd), enterprise(keys[1]), enterprise(keys[2], 主体类别="个体工商户",
                                                                                       **{"注册资本（万元）": ""})])
    assert "共 3 行，新增 3，更新 0" in ready("import", "enterprises", first).out
    second = write_csv(tmp_path / "second.csv", ENTERPRISE_HEADER, [enterprise(keys[1], **odd)])
    assert "共 1 行，新增 0，更新 1" in ready("import", "enterprises", second).out
    stored = rows_of(db_url, orm.Enterprise)
    for key in keys[:2]:
        row = stored[key]
        assert (row.name, row.address, row.industry, row.legal_representative) == (
            "甲\\乙有限公司", "\\N", None, "王\\t伟")
        assert float(row.registered_capital) == 1000.0
    assert stored[keys[2]].registered_capital is None and stored[keys[2]].established_on.isoformat() == "2015-03-02"
    assert stored[keys[0]].created_at == stored[keys[1]].created_at and stored[keys[0]].in_latest_directory
