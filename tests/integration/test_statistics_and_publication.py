"""A hand-built campaign: the statistics table's every number, and the public files without personal data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.integration.conftest import CODE
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.statistics import COLUMNS

ITEMS_CSV = Path(__file__).resolve().parents[2] / "examples" / "district" / "items.csv"
NOW = "2019-12-16T10:00"


def contents_of(*items):
    """Content points counted straight from the item list the district imported (；-separated)."""
    with open(ITEMS_CSV, encoding="utf-8-sig") as fh:
        return sum(len(r["检查内容"].split("；")) for r in csv.DictReader(fh) if r["事项编码"] in items)


def test_every_number_of_the_statistics_table(reported, tmp_path):
    ssj, sampled, teams, _ = reported
    result = ssj("report", "stats", CODE, "--out", tmp_path / "stats.xlsx", "--now", NOW)
    assert result.code == 0, result.err
    sheet = openpyxl.load_workbook(tmp_path / "stats.xlsx")["抽查情况统计表"]
    assert sheet["A1"].value.endswith("联合抽查情况统计表") and "抽查抽查" not in sheet["A1"].value, "titled once"
    assert sheet["A2"].value == "统计截至：2019年12月16日"
    assert [(sheet.cell(3, c).value or "").replace("\n", "") or None for c in range(1, 13)] == [
        "部门", "随机抽查企业（户）", "随机抽取执法检查人员（人次）", "涉及检查部门（个）", "检查项目（个）", "检查内容（个）",
        "抽查结果", None, "抽查结果处理", None, None, "现场解答疑难问题（个）"]
    assert [sheet.cell(4, c).value.replace("\n", "") for c in range(7, 12)] == [
        "发现问题事项（项）", "发现问题企业（户）", "责令改正（户）", "应列入异常（户）", "涉嫌违法立案调查（户）"]
    assert "G3:H3" in {str(r) for r in sheet.merged_cells.ranges}
    rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in range(2, 13)] for r in range(5, 13)}
    live = len(sampled) - 1
    assert rows["合计"] == [live, 2 * live, 2, 4, contents_of("SJ-01", "SJ-02", "SJ-03", "SW-01"), 3, 2, 1, 1, 1, 3]
    assert rows["鹿泉区市场监督管理局"] == [live, live, 1, 3, contents_of("SJ-01", "SJ-02", "SJ-03"), 2, 2, 1, 1, 0, 3]
    assert rows["国家税务总局石家庄市鹿泉区税务局"] == [live, live, 1, 1, contents_of("SW-01"), 1, 1, 0, 0, 1, 0]
    assert rows["鹿泉区人力资源和社会保障局"] == [0] * 11
    detail = openpyxl.load_workbook(tmp_path / "stats.xlsx")["企业检查结果"]
    assert detail.max_row == len(sampled) + 1
    as_csv = ssj("report", "stats", CODE, "--out", tmp_path / "stats.csv", "--now", NOW)
    assert as_csv.code == 0
    with open(tmp_path / "stats.csv", encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    assert table[1][0] == "合计" and [int(x) for x in table[1][1:]] == rows["合计"]
    summary = ssj("report", "summary", CODE, "--out", tmp_path / "summary.xlsx", "--now", NOW)
    assert summary.code == 0, summary.err
    figures = dict(openpyxl.load_workbook(tmp_path / "summary.xlsx")["概况"].iter_rows(min_row=5, values_only=True))
    assert [figures[label] for _, label in COLUMNS] == rows["合计"], \
        "the summary counts its total row alone (no department rows) and gets the table's numbers"


def test_publication_files_and_no_personal_data(reported, db_url, tmp_path):
    ssj, sampled, teams, (e0, e1, e2) = reported
    clerkless = ssj("publish", CODE, "--out", tmp_path / "pub", "--user", "contact@sj.luquan.example")
    assert clerkless.code == 2 and "只有领导小组办公室可以公示" in clerkless.err
    result = ssj("publish", CODE, "--out", tmp_path / "pub", "--now", NOW)
    assert result.code == 0, result.err
    assert "本次公示 3 户" in result.out
    out = tmp_path / "pub"
    records = [json.loads(line) for line in (out / f"{CODE}-公示信息.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["统一社会信用代码"] for r in records] == sorted([e0, e1, e2])
    assert list(records[0]) == ["抽查计划编号", "抽查计划名称", "抽查任务编号", "抽查任务名称", "抽查类型", "检查机关",
                                "企业名称", "统一社会信用代码", "检查完成日期", "检查结果", "备注"]
    assert {(r["抽查计划编号"], r["抽查任务编号"]) for r in records} == {("石鹿双随机办〔2019〕4号", "石鹿双随机办〔2019〕11号")}, \
        "the plan's number and the notice's document number, as the seed gives them (not the internal code)"
    by = {r["统一社会信用代码"]: r for r in records}
    assert by[e1]["检查结果"] == "发现问题待后续处理；未按规定公示应当公示的信息；违反其他部门相关规定"
    assert by[e2]["检查结果"] == "未发现问题" and by[e2]["检查完成日期"] == "2019-12-10"
    assert by[e0]["抽查类型"] == "部门联合双随机抽查"
    assert by[e0]["检查机关"] == "鹿泉区市场监督管理局、国家税务总局石家庄市鹿泉区税务局"
    with open(out / f"{CODE}-公示信息.csv", encoding="utf-8-sig") as fh:
        assert list(csv.DictReader(fh)) == records
    page = (out / f"{CODE}-检查结果公告.html").read_text(encoding="utf-8")
    assert "2019年度第1号抽查任务检查结果公告</title>" in page and "@media print" in page
    assert "根据石鹿双随机办〔2019〕11号，" in page and "《石鹿双随机办" not in page, "a document number without 书名号"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        people = conn.execute(select(orm.Officer.name, orm.Officer.mobile, orm.Officer.certificate_no,
                                     orm.Officer.email)).all()
        enterprises = conn.execute(select(orm.Enterprise.legal_representative, orm.Enterprise.phone)
                                   .where(orm.Enterprise.uscc.in_([e0, e1, e2]))).all()
        states = dict(conn.execute(select(orm.InspectionRow.uscc, orm.InspectionRow.state)).all())
        publish_tasks = conn.execute(select(orm.TaskRow.outcome).join(
            orm.InspectionRow, orm.InspectionRow.id == orm.TaskRow.inspection_id)
            .where(orm.TaskRow.kind == "publish", orm.InspectionRow.uscc.in_([e0, e1, e2]))).scalars().all()
    engine.dispose()
    public = "".join(p.read_text(encoding="utf-8-sig") for p in out.iterdir())
    for value in [v for row in people for v in row] + [v for row in enterprises for v in row]:
        if value and len(value) >= 2:
            assert value not in public, f"personal data in the public files: {value}"
    assert {states[u] for u in (e0, e1, e2)} == {"published"} and publish_tasks == ["done"] * 3
    again = ssj("publish", CODE, "--out", tmp_path / "pub", "--now", NOW)
    assert again.code == 0 and "本次公示 0 户，累计已公示 3 户" in again.out


def test_overdue_confirmation_and_summary_reports(reported, db_url, tmp_path):
    ssj, sampled, teams, (e0, e1, e2) = reported
    overdue = ssj("report", "overdue", CODE, "--out", tmp_path / "overdue.xlsx", "--now", "2019-12-20T10:00")
    assert overdue.code == 0, overdue.err
    book = openpyxl.load_workbook(tmp_path / "overdue.xlsx")
    detail = list(book["逾期明细"].iter_rows(min_row=5, values_only=True))
    kinds = {row[1] for row in detail}
    # Nobody acknowledged the forms (due 2 days after 12-03); the still-assigned enterprises were never visited,
    # so their back-fill clock has not started; the office has not published anything.
    assert "执法人员确认一企一表" in kinds and "回填检查结果" not in kinds
    assert all(row[5] >= 1 for row in detail), "working days overdue"
    assert book["逾期部门"]._charts, "a native chart of overdue work per department"
    summary_rows = list(book["逾期部门"].iter_rows(min_row=5, values_only=True))
    assert sum(r[1] for r in summary_rows) == len(detail)
    confirmation = ssj("report", "confirmation", CODE, "--out", tmp_path / "confirmation.xlsx")
    assert confirmation.code == 0, confirmation.err
    book = openpyxl.load_workbook(tmp_path / "confirmation.xlsx")
    totals = {r[0]: r[1:] for r in book["汇总"].iter_rows(min_row=5, values_only=True)}
    assert totals["鹿泉区市场监督管理局"] == (len(sampled), len(sampled), 0, 0, 0)
    assert totals["鹿泉区人力资源和社会保障局"] == (len(sampled), 0, len(sampled), 0, 0)
    answered_by = {r[6] for r in book["比对确认明细"].iter_rows(min_row=5, values_only=True)}
    assert answered_by and not any("@" in (who or "") for who in answered_by), f"names, not mailboxes: {answered_by}"
    people = list(book["检查人员"].iter_rows(min_row=5, values_only=True))
    engine = make_engine(db_url)
    with engine.connect() as conn:
        mobiles = dict(conn.execute(select(orm.Officer.certificate_no, orm.Officer.mobile)).all())
    engine.dispose()
    on_teams = {c for team in teams["teams"].values() for c, _ in team}
    assert {r[2] for r in people} >= on_teams and all(r[3] == mobiles[r[2]] for r in people), "officers with mobiles"
    summary = ssj("report", "summary", CODE, "--out", tmp_path / "summary.xlsx", "--now", "2019-12-16T10:00")
    assert summary.code == 0, summary.err
    book = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    assert set(book.sheetnames) == {"概况", "进度", "部门总结", "方案检查"}
    figures = dict(book["概况"].iter_rows(min_row=5, values_only=True))
    assert figures["检查对象：已回填（户）"] == 3 and figures["检查对象：已撤出（户）"] == 1
    assert book["进度"]._charts
    progress = list(book["进度"].iter_rows(min_row=5, values_only=True))
    assert progress[-1][0] == "2019-12-16" and progress[-1][1] == len(sampled)
    findings = list(book["方案检查"].iter_rows(min_row=5, values_only=True))
    assert ("警告", "总结、统计表报送", "2019年12月17日（星期二）前") in [f[:3] for f in findings], \
        "the seed's own inconsistency, under the deadline's name and date (not the key deadlines.summary)"


def test_every_report_shows_a_redrawn_campaign(loaded, tmp_path):
    from tests.conftest import EXAMPLE_CAMPAIGN, commit_draw_args, run_draw_args

    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    assert loaded(*commit_draw_args(CODE, salt="1"), "--now", "2019-11-27T08:00").code == 0
    assert loaded(*commit_draw_args(CODE), "--redraw", "--reason", "名录导出有误", "--now", "2019-11-27T08:30").code == 0
    assert loaded(*run_draw_args(CODE), "--witness", "w", "--now", "2019-11-27T09:00").code == 0
    for name in ("stats", "overdue", "confirmation", "summary"):
        assert loaded("report", name, CODE, "--out", tmp_path / f"{name}.xlsx", "--now", "2019-12-01T09:00").code == 0
        book = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")
        cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value]
        assert any("本任务经重新抽取（第 2 轮：名录导出有误）" in c for c in cells), name
