"""The visit and the back-fill: single entries, and the form round trip (generate → fill → import)."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import snapshot
from tests.integration.conftest import CODE
from workflow.persistence import orm
from workflow.persistence.database import make_engine


def team_of(teams, uscc):
    return [c for c, _ in teams["teams"][uscc]]


def state_of(db_url, uscc):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(orm.InspectionRow.__table__).where(orm.InspectionRow.uscc == uscc)).one()
        tasks = {t.kind: t for t in conn.execute(select(orm.TaskRow.__table__).where(
            orm.TaskRow.inspection_id == row.id, orm.TaskRow.kind.in_(("backfill", "publish"))))}
    engine.dispose()
    return row, tasks


def without_audit(snap):
    return {k: v for k, v in snap.items() if not k.startswith("audit")}


def test_single_entries_move_the_enterprise_and_start_the_clocks(assigned, db_url):
    ssj, sampled, teams, _ = assigned
    uscc = sampled[0]
    certs = ",".join(team_of(teams, uscc))
    visit = ssj("results", "visit", CODE, uscc, "--date", "2019-12-10", "--officers", certs, "--signature", "盖章",
                "--now", "2019-12-10T16:00")
    assert visit.code == 0, visit.err
    row, tasks = state_of(db_url, uscc)
    assert row.state == "inspected" and row.visit_signature == "盖章"
    # 5 working days after Tue 2019-12-10: Tue 12-17, by the end of the day (Beijing) = 12-17 16:00 UTC.
    assert tasks["backfill"].due_at == datetime.fromisoformat("2019-12-17T16:00:00+00:00")
    # 20 working days, 2020-01-01 (元旦) not one of them: by the end of Wed 2020-01-08.
    assert tasks["publish"].due_at == datetime.fromisoformat("2020-01-08T16:00:00+00:00")
    first = ssj("results", "record", CODE, uscc, "--item", "SJ-01", "--result", "1", "--method", "实地核查",
                "--questions", "2", "--now", "2019-12-11T10:00")
    assert first.code == 0, first.err and "已回填" in first.out
    for item, extra in (("SJ-02", ["--result", "E", "--finding", "未按规定公示年报", "--handling", "2"]),
                        ("SJ-03", ["--result", "B", "--finding", "年报未公示", "--handling", "3"])):
        result = ssj("results", "record", CODE, uscc, "--item", item, *extra, "--now", "2019-12-12T10:00")
        assert result.code == 0, result.err
    assert "应列入经营异常名录" in result.out
    last = ssj("results", "record", CODE, uscc, "--item", "SW-01", "--result", "1", "--now", "2019-12-19T10:00")
    assert last.code == 0 and "全部事项已回填" in last.out and "回填已逾期" in last.out, last.out
    row, tasks = state_of(db_url, uscc)
    assert row.state == "reported" and tasks["backfill"].outcome == "done"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        codes = conn.execute(select(orm.ResultCode.item_code, orm.ResultCode.code)
                             .where(orm.ResultCode.item_code == "SJ-03")).all()
    engine.dispose()
    assert sorted(c for _, c in codes) == ["A", "B"], "B implies A, stored as a set of codes"


@pytest.mark.parametrize("args, message", [
    (["--date", "2019-12-14"], "不在实地核查时间 2019-12-09 至 2019-12-13 之内"),
    (["--signature", "拒绝签字"], "“拒绝签字”须如实记录情况说明"),
    (["--officers", "ONE"], "不在该企业的检查组中"),
])
@pytest.mark.stress  # heavy: make stress (and .ci/run)
def test_visit_rules_refuse_and_change_nothing(assigned, db_url, args, message):
    ssj, sampled, teams, _ = assigned
    uscc = sampled[1]
    options = {"--date": "2019-12-10", "--officers": ",".join(team_of(teams, uscc)), "--signature": "签字"}
    options.update(dict(zip(args[::2], args[1::2])))
    before = snapshot(db_url)
    result = ssj("results", "visit", CODE, uscc, *[x for kv in options.items() for x in kv])
    assert result.code == 2 and message in result.err
    assert without_audit(snapshot(db_url)) == without_audit(before)


def test_result_rules_refuse(assigned, db_url):
    ssj, sampled, teams, _ = assigned
    uscc = sampled[1]
    assert ssj("results", "record", CODE, uscc, "--item", "SJ-01", "--result", "1").code == 2, "no visit yet"
    assert ssj("results", "visit", CODE, uscc, "--date", "2019-12-11", "--officers", ",".join(team_of(teams, uscc)),
               "--signature", "签字").code == 0
    for args, message in ((["--item", "RS-01", "--result", "1"], "不在企业"),
                          (["--item", "SJ-01", "--result", "1,E"], "“1 未发现问题”不能与其他检查结果同时选择"),
                          (["--item", "SJ-01", "--result", "A"], "须同时选择 B、C、6、D、3、4、5"),
                          (["--item", "SJ-01", "--result", "E", "--handling", "2"], "须填写发现问题"),
                          (["--item", "SJ-01", "--result", "E", "--finding", "x", "--handling", "7"],
                           "“7 其他”须填写说明")):
        result = ssj("results", "record", CODE, uscc, *args)
        assert result.code == 2 and message in result.err, (args, result.err)


def fill(path, *, date="2019-12-12", officers=None, signature="签字", note="", codes=None, questions=3):
    """An officer fills the generated form in Excel: the cells the hidden map names."""
    book = openpyxl.load_workbook(path)
    sheet, mapping = book["一企一表"], {k: v for k, v in book["ssj"].iter_rows(min_row=2, values_only=True)}
    sheet[mapping["date_cell"]] = date
    sheet[mapping["officers_cell"]] = "、".join(officers or [])
    sheet[mapping["signature_cell"]] = signature
    sheet[mapping["note_cell"]] = note
    sheet[mapping["questions_cell"]] = questions
    for key, row in mapping.items():
        if key.startswith("item:"):
            item = key[5:]
            code, finding, handling = (codes or {}).get(item, ("1", "", ""))
            sheet[f"D{row}"], sheet[f"E{row}"], sheet[f"F{row}"], sheet[f"G{row}"] = "实地核查", code, finding, handling
    book.save(path)
    return mapping


def test_the_form_round_trip(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[2]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    fill(path, date=datetime(2019, 12, 12), officers=team_of(teams, uscc),
         codes={"SJ-02": ("A、D", "超范围经营", "2、5")})
    result = ssj("results", "import", path, "--now", "2019-12-13T09:00")
    assert result.code == 0, result.err
    assert "记录实地核查" in result.out and "全部事项已回填" in result.out
    row, tasks = state_of(db_url, uscc)
    assert row.state == "reported" and row.visit_date.isoformat() == "2019-12-12"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        iid = row.id
        results = conn.execute(select(orm.ItemResultRow.__table__).where(orm.ItemResultRow.inspection_id == iid)).all()
        handling = conn.execute(select(orm.ResultHandling.handling).where(
            orm.ResultHandling.inspection_id == iid, orm.ResultHandling.item_code == "SJ-02")).scalars().all()
    engine.dispose()
    assert len(results) == 4 and sum(r.questions for r in results) == 3
    assert sorted(handling) == [2, 5]


def test_a_wps_serial_date_reads_back(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[3]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    fill(path, date=43811, officers=team_of(teams, uscc))  # 2019-12-12 as a General-formatted number
    assert ssj("results", "import", path).code == 0
    assert state_of(db_url, uscc)[0].visit_date.isoformat() == "2019-12-12"


def test_a_bad_form_names_every_cell_and_stores_nothing(assigned, db_url):
    ssj, sampled, teams, forms = assigned
    uscc = sampled[4]
    [path] = list((forms / "一企一表").glob(f"{uscc}-*.xlsx"))
    mapping = fill(path, date="2019-12-20", officers=team_of(teams, uscc)[:1] + ["130110999999"],
                   signature="无人签字", codes={"SJ-01": ("1E", "", ""), "SW-01": ("E", "", "9")})
    before = snapshot(db_url)
    result = ssj("results", "import", path)
    assert result.code == 2
    name = path.name
    lines = result.err_lines
    assert f"{name}!一企一表!{mapping['date_cell']}: 核查日期 2019-12-20 不在实地核查时间 2019-12-09 至 2019-12-13 之内" in lines
    assert any(l.startswith(f"{name}!一企一表!{mapping['officers_cell']}: 执法人员 130110999999 不在该企业的检查组中")
               for l in lines)
    assert f"{name}!一企一表!{mapping['note_cell']}: “无人签字”须如实记录情况说明" in lines
    assert f"{name}!一企一表!E{mapping['item:SJ-01']}: SJ-01：“1 未发现问题”不能与其他检查结果同时选择" in lines
    assert f"{name}!一企一表!F{mapping['item:SW-01']}: SW-01：发现问题的，须填写发现问题（具体情况）" in lines
    assert f"{name}!一企一表!G{mapping['item:SW-01']}: SW-01：后续处置 9 不存在（可用：1–7）" in lines
    assert lines[-1].startswith("导入被拒绝：共 ")
    assert snapshot(db_url) == before


def test_a_form_of_another_campaign_or_a_broken_file(assigned, db_url, tmp_path):
    ssj, sampled, teams, forms = assigned
    [path] = list((forms / "一企一表").glob(f"{sampled[0]}-*.xlsx"))
    book = openpyxl.load_workbook(path)
    book["ssj"]["B2"] = "another-campaign"
    book.save(tmp_path / "other.xlsx")
    other = ssj("results", "import", tmp_path / "other.xlsx")
    assert other.code == 2 and other.err.startswith("other.xlsx!ssj!B2: 抽查任务“another-campaign”不存在")
    (tmp_path / "broken.xlsx").write_bytes(path.read_bytes()[:500])
    broken = ssj("results", "import", tmp_path / "broken.xlsx")
    assert broken.code == 2 and "不是有效的 XLSX 文件" in broken.err
