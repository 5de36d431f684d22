"""A control character written into an XLSX's XML as it is (``&#x0B;``, ``&#0;`` or the raw byte), not escaped.

Excel and WPS write ``_x000B_``; a file made by another program (or edited by hand) may hold the character
reference itself, which XML forbids. It is refused like the escaped form — the cell and the character named,
exit 2, nothing changed — not as an English parser message about a "line 1" of the sheet's XML.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import snapshot
from tests.integration.test_hostile_input import _rows
from tests.integration.test_results import fill, team_of

MARK = "ZZMARKZZ"


def _with_raw_xml(path: Path, written: bytes) -> Path:
    """``path`` rewritten with ``written`` put, byte for byte, where the cell text has ``MARK``."""
    raw = path.with_name(f"raw-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename).replace(MARK.encode(), written))
    return raw


@pytest.mark.parametrize("written, point", [(b"&#x0B;", "000B"), (b"&#0;", "0000"), (b"\x1f", "001F"),
                                            (b"&#xFFFE;", "FFFE")])
def test_a_raw_character_reference_in_a_directory_names_its_cell(loaded, db_url, tmp_path, district, written, point):
    header, rows = _rows(district["enterprises"])
    book = openpyxl.Workbook()
    for row in [header, *rows[:3]]:
        book.active.append(row)
    book.active["B3"] = f"{rows[1][1]}{MARK}"
    book.save(tmp_path / "enterprises.xlsx")
    path = _with_raw_xml(tmp_path / "enterprises.xlsx", written)
    before = snapshot(db_url)
    result = loaded("import", "enterprises", path)
    assert result.code == 2, result.err
    assert result.err_lines == [f"{path}: 工作表“Sheet”单元格 B3：含有不可见控制字符（U+{point}），XML 不允许，无法读取",
                                "导入被拒绝：共 1 个问题，数据库未作任何更改。"]
    assert snapshot(db_url) == before


def test_a_raw_character_reference_in_a_filled_form_names_its_cell(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[5]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    mapping = fill(path, officers=team_of(teams, uscc), codes={"SJ-02": ("E", f"超范围{MARK}经营", "2")})
    raw = _with_raw_xml(path, b"&#11;")
    before = snapshot(db_url)
    result = ssj("results", "import", raw, "--now", "2019-12-13T09:00")
    assert result.code == 2, result.err
    assert f"工作表“一企一表”单元格 F{mapping['item:SJ-02']}：含有不可见控制字符（U+000B）" in result.err
    assert "内部错误" not in result.err and "line" not in result.err
    assert snapshot(db_url) == before
    assert ssj("audit", "verify").code == 0


def test_excel_escapes_are_read_as_excel_meant_them(loaded, db_url, tmp_path, district):
    """``_x000D_`` is Excel's carriage return (text from Windows pasted into a cell): the list has two lines, not
    "第一条_x000D_"; a typed ``_x000B_`` (written ``_x005F_x000B_``) is kept as typed, not refused."""
    from sqlalchemy import select

    from tests.conftest import rows as query
    from workflow.persistence import orm

    header, rows = _rows(district["items"])
    book = openpyxl.Workbook()
    for row in [header, rows[0]]:
        book.active.append(row)
    book.active.cell(2, header.index("检查内容") + 1).value = f"第一条{MARK}第二条"
    book.save(tmp_path / "items.xlsx")
    assert loaded("import", "items", _with_raw_xml(tmp_path / "items.xlsx", b"_x000D_\n")).code == 0
    contents = orm.InspectionItemContent.__table__
    assert [r.text for r in query(db_url, select(contents).where(contents.c.item_code == rows[0][0])
                                     .order_by(contents.c.position))] == ["第一条", "第二条"]

    header, rows = _rows(district["enterprises"])
    book = openpyxl.Workbook()
    for row in [header, rows[0]]:
        book.active.append(row)
    book.active["B2"] = f"鹿泉{MARK}食品厂"
    book.save(tmp_path / "enterprises.xlsx")
    result = loaded("import", "enterprises", _with_raw_xml(tmp_path / "enterprises.xlsx", b"_x005F_x000B_"))
    assert result.code == 0, result.err
    names = orm.Enterprise.__table__
    assert query(db_url, select(names.c.name).where(names.c.uscc == rows[0][0])) == [("鹿泉_x000B_食品厂",)]
