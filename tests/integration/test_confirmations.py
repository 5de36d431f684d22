"""Departments' 比对确认: ``ssj confirm`` one by one and ``ssj confirm import`` of a returned file."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import EXAMPLE_CAMPAIGN, commit_draw_args, run_draw_args, snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.uscc import make

CODE = "luquan-2019-h2"
CLERK = "clerk@office.luquan.example"
HEADER = ["抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由"]
DEPARTMENTS = ["SJ", "SW", "RS", "HB", "YJ", "XF", "TJ"]
UNKNOWN = make("91", "130110", "99999999")  # valid, but not drawn


@pytest.fixture
def drawn(loaded, tmp_path):
    """The seed campaign at 5 % (about ten enterprises of the small district), drawn and dispatched."""
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace('ratio = "1%"', 'ratio = "5%"'),
                        encoding="utf-8")
    assert loaded("campaign", "create", campaign, "--now", "2019-11-26T10:00").code == 0
    assert loaded(*commit_draw_args(CODE), "--now", "2019-11-27T08:30").code == 0
    run = loaded(*run_draw_args(CODE), "--witness", "见证", "--now", "2019-11-27T09:00", "--json")
    assert run.code == 0, run.err
    sampled = json.loads(run.out)["sampled"]
    assert len(sampled) >= 5
    return loaded, sampled


def contact(dept: str) -> str:
    return f"contact@{dept.lower()}.luquan.example"


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def answers_in_db(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(orm.InspectionDepartment.department_code, orm.InspectionDepartment.inspects,
                                   orm.InspectionDepartment.on_behalf, orm.InspectionDepartment.answered_by)
                            .where(orm.InspectionDepartment.answered_at.is_not(None))).all()
    engine.dispose()
    return rows


def test_a_department_answers_itself_and_the_office_only_after_the_deadline(drawn, db_url):
    ssj, sampled = drawn
    own = ssj("confirm", CODE, "SJ", sampled[0].lower(), "--inspect", "--user", contact("sj"),
              "--now", "2019-11-28T10:00")
    assert own.code == 0, own.err
    assert own.out.strip() == f"已记录部门 SJ 对企业 {sampled[0]} 的比对确认：检查"
    early = ssj("confirm", CODE, "SW", sampled[0], "--decline", "无涉税事项", "--now", "2019-11-29T16:00")
    assert early.code == 2 and "期限届满前须由该部门自行确认" in early.err
    late = ssj("confirm", CODE, "SW", sampled[0], "--decline", "无涉税事项", "--now", "2019-12-02T09:00")
    assert late.code == 0 and "由办公室代为确认" in late.out
    assert sorted(answers_in_db(db_url)) == [("SJ", True, False, contact("sj")), ("SW", False, True, CLERK)]
    stranger = ssj("confirm", CODE, "RS", sampled[0], "--inspect", "--user", contact("sj"))
    assert stranger.code == 2 and "不是鹿泉区人力资源和社会保障局的管理员或联络人" in stranger.err


@pytest.mark.parametrize("flags", [[], ["--inspect", "--decline", "x"]])
def test_inspect_or_decline_exactly_one(drawn, flags):
    ssj, sampled = drawn
    result = ssj("confirm", CODE, "SJ", sampled[0], *flags, "--user", contact("sj"))
    assert result.code == 2 and "--inspect 和 --decline" in result.err


def test_a_returned_file_imports_and_the_last_answers_confirm(drawn, db_url, tmp_path):
    ssj, sampled = drawn
    for dept in DEPARTMENTS:
        rows = [[CODE, dept, u, "是" if dept in ("SJ", "SW") else "否", "" if dept in ("SJ", "SW") else "不涉及"]
                for u in sampled]
        result = ssj("confirm", "import", write_csv(tmp_path / f"{dept}.csv", rows), "--user", contact(dept),
                     "--now", "2019-11-28T15:00", "--json")
        assert result.code == 0, result.err
        assert json.loads(result.out) == {"file": str(tmp_path / f"{dept}.csv"), "recorded": len(sampled),
                                          "on_behalf": 0}
    assert len(answers_in_db(db_url)) == 7 * len(sampled)
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)
    assert status["inspections"]["confirmed"] == len(sampled), "each enterprise's last answer confirms it"
    engine = make_engine(db_url)
    with engine.connect() as conn:
        confirms = conn.execute(select(orm.AuditEvent.actor).where(orm.AuditEvent.action == "confirm")).scalars().all()
    engine.dispose()
    assert confirms == [contact("TJ")] * len(sampled), "confirmed by whoever gave the last answer"


def test_an_xlsx_file_with_a_title_line_imports(drawn, db_url, tmp_path):
    ssj, sampled = drawn
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["鹿泉区税务局 比对确认结果"])
    sheet.append(HEADER)
    for u in sampled[:3]:
        sheet.append([CODE, "SW", u, "否", "无涉税事项"])
    book.save(tmp_path / "sw.xlsx")
    result = ssj("confirm", "import", tmp_path / "sw.xlsx", "--user", contact("sw"), "--now", "2019-11-28T15:00")
    assert result.code == 0, result.err and "共 3 条" in result.out
    assert sorted(answers_in_db(db_url)) == [("SW", False, False, contact("sw"))] * 3


def test_a_bad_file_is_refused_whole_with_every_place_named(drawn, db_url, tmp_path):
    ssj, sampled = drawn
    path = write_csv(tmp_path / "bad.csv", [
        [CODE, "SJ", sampled[0], "是", ""],
        [CODE, "SJ", sampled[1], "否", ""],
        [CODE, "SJ", sampled[0], "是", ""],
        [CODE, "SJ", sampled[2], "也许", ""],
        [CODE, "SW", sampled[3], "是", ""],
        [CODE, "SJ", UNKNOWN, "是", ""],
        ["nope", "SJ", sampled[4], "是", ""],
    ])
    before = snapshot(db_url)
    result = ssj("confirm", "import", path, "--user", contact("sj"), "--now", "2019-11-28T15:00")
    assert result.code == 2
    lines = result.err_lines
    assert lines[0] == f"{path}:3: 不检查理由: 必填（是否检查为“否”时须填写不检查理由）"
    assert lines[1] == f"{path}:4: 统一社会信用代码: 与第 2 行重复（同一任务、部门和企业）"
    assert lines[2].startswith(f"{path}:5: 是否检查: “也许”不是允许的值")
    assert lines[-1] == "导入被拒绝：共 3 个问题，数据库未作任何更改。"
    assert snapshot(db_url) == before
    fixed = write_csv(tmp_path / "fixed.csv", [
        [CODE, "SJ", sampled[0], "是", ""],
        [CODE, "SW", sampled[3], "是", ""],
        [CODE, "SJ", UNKNOWN, "是", ""],
        ["nope", "SJ", sampled[4], "是", ""],
    ])
    result = ssj("confirm", "import", fixed, "--user", contact("sj"), "--now", "2019-11-28T15:00")
    assert result.code == 2
    assert result.err_lines[:3] == [
        f"{fixed}:3: 统一社会信用代码: “{contact('sj')}”不是国家税务总局石家庄市鹿泉区税务局的管理员或联络人，"
        "也不是领导小组办公室的工作人员，不能代为比对确认",
        f"{fixed}:4: 统一社会信用代码: 企业 {UNKNOWN} 不是抽查任务“luquan-2019-h2”的抽查对象",
        f"{fixed}:5: 抽查任务编号: 抽查任务“nope”不存在（用 ssj campaign create 创建）",
    ]
    after = snapshot(db_url)
    assert {k: v for k, v in after.items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
