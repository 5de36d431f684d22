"""Issue 14, case 6: a year no calendar covers is decided when the campaign is created, and never an internal error.

A December 2026 campaign publishes in January 2027, a year chinese-calendar does not know: ``campaign check``
lists every deadline it can resolve and marks the one it cannot, ``campaign create`` refuses the plan with
the checker's own 错误. A campaign that got in while a 2027 file was there (it was removed afterwards) makes
commands say which year is missing and how to add it (exit 1): its tick does what it can, and the other
campaigns and the mail go on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from tests.conftest import EXAMPLE_CAMPAIGN, commit_draw_args, draw_campaign, rows, run_draw_args, snapshot
from workflow.persistence import orm

FICTIONAL_2027 = Path(__file__).resolve().parents[1] / "unit" / "calendar_files" / "fictional-2027.toml"
DEC = "dec-2026"
ADD_THE_FILE = "工作日历未覆盖 2027 年：请在国务院办公厅公布 2027 年节假日安排后，添加覆盖文件 calendars/data/2027.toml"


def december_campaign(tmp_path: Path) -> Path:
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace('code = "luquan-2019-h2"', f'code = "{DEC}"')
    for key, value in {"window": "{ from = 2026-12-07, to = 2026-12-31 }", "draw_at": "2026-12-07T09:00:00",
                       "confirmation_report": "{ at = 2026-12-10T17:00:00 }",
                       "visit": "{ from = 2026-12-21, to = 2026-12-25 }", "summary": "{ on = 2026-12-31 }",
                       "backfill": '{ within = "3 workdays", after = "visit" }'}.items():
        source = re.sub(rf"^{key} = .*$", f"{key} = {value}", source, count=1, flags=re.M)
    path = tmp_path / "dec-2026.toml"
    path.write_text(source, encoding="utf-8")
    return path


def test_create_refuses_a_plan_whose_check_has_an_error(loaded, db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("SSJ_CALENDAR_FILES", raising=False)
    plan = december_campaign(tmp_path)
    check = loaded("campaign", "check", plan)
    assert check.code == 1
    # every deadline the calendar places is listed; the one it cannot is marked with its year and month
    assert "部门比对确认（confirm）：2026年12月9日（星期三）前，即派发后2个工作日内" in check.out
    assert "结果回填（backfill）：2026年12月30日（星期三）前，即实地核查后3个工作日内" in check.out
    assert "总结、统计表报送（summary）：2026年12月31日（星期四）前\n" in check.out
    assert "结果公示（publish）：约在2027年1月，具体日期无法确定：缺少 2027 年工作日历" in check.out
    assert "即实地核查后20个工作日内" in check.out
    error = next(line.strip() for line in check.out.splitlines() if line.strip().startswith("错误"))
    assert ADD_THE_FILE in error

    before = snapshot(db_url)
    created = loaded("campaign", "create", plan, "--now", "2026-12-01T10:00")
    assert created.code == 2
    assert created.err_lines[0] == f"{plan}: {error}"  # the checker's message, word for word
    assert "未创建抽查任务" in created.err_lines[-1] and "内部错误" not in created.err
    assert snapshot(db_url) == before
    assert loaded("campaign", "status", DEC).code == 2

    as_json = loaded("campaign", "check", plan, "--json")
    assert as_json.code == 1
    assert json.loads(as_json.out)["unresolved"] == {"publish": {"missing_year": 2027, "about": "2027-01-??"}}
    # nothing else is blocked: the same plan with the year's file is created, and so is the seed
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    assert loaded("campaign", "check", plan).code == 0
    assert loaded("campaign", "create", plan, "--now", "2026-12-01T10:00").code == 0
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    assert loaded("audit", "verify").code == 0


def test_a_missing_year_is_said_with_exit_1_and_blocks_nothing_else(loaded, db_url, tmp_path, monkeypatch,
                                                                     smtp_server):
    inbox, _ = smtp_server
    port = str(smtp_server[1].port)
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    plan = december_campaign(tmp_path)
    assert loaded("campaign", "create", plan, "--now", "2026-12-01T10:00").code == 0
    assert loaded(*commit_draw_args(DEC), "--now", "2026-12-07T08:30").code == 0
    assert loaded(*run_draw_args(DEC), "--witness", "w", "--now", "2026-12-07T09:00").code == 0
    assert loaded("tick", DEC, "--now", "2026-12-07T10:00").code == 0
    draw_campaign(loaded)  # a second campaign in the same database
    monkeypatch.delenv("SSJ_CALENDAR_FILES")  # the file went away: the campaign's deadlines reach into 2027

    # the seed campaign's reminders are queued while the mail server is away …
    monkeypatch.setenv("SSJ_SMTP_PORT", "1")
    down = loaded("tick", "luquan-2019-h2", "--now", "2019-11-28T10:00")
    assert down.code == 1 and "邮件发送失败" in down.err, "its work done, its mail failing: exit 1 (issue 15)"
    queued = rows(db_url, select(orm.OutboxMessage.id).where(orm.OutboxMessage.sent_at.is_(None)))
    assert queued
    monkeypatch.setenv("SSJ_SMTP_PORT", port)

    # … and the December campaign's tick, short of 2027, still sends them and says what it waits for
    tick = loaded("tick", DEC, "--now", "2027-01-04T10:00")
    assert tick.code == 1, tick.err
    assert "内部错误" not in tick.err
    assert re.search(r"\d+ 项事项的提醒或督办无法确定：" + ADD_THE_FILE, tick.err)
    assert len(inbox.messages) >= len(queued)

    for args in (("report", "overdue", DEC, "--out", tmp_path / "overdue.xlsx", "--now", "2027-01-04T09:00"),
                 ("tick", DEC, "--now", "2027-01-04T10:15")):
        result = loaded(*args)
        assert result.code == 1 and ADD_THE_FILE in result.err and "内部错误" not in result.err, (args, result.err)
    assert loaded("tick", "luquan-2019-h2", "--now", "2019-11-28T11:00").code == 0  # the other campaign goes on
    assert loaded("audit", "verify").code == 0

    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))  # the year's file added: all catches up
    again = loaded("tick", DEC, "--now", "2027-01-04T10:30")
    assert again.code == 0 and "无法确定" not in again.err, again.err
    assert loaded("report", "overdue", DEC, "--out", tmp_path / "overdue.xlsx", "--now", "2027-01-04T10:30").code == 0
    assert loaded("audit", "verify").code == 0


def test_a_public_draw_that_needs_a_missing_year_says_so_and_records_nothing(loaded, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    source = december_campaign(tmp_path).read_text(encoding="utf-8")
    for key, value in {"window": "{ from = 2026-12-28, to = 2027-01-29 }", "draw_at": "2026-12-30T09:00:00",
                       "confirmation_report": "{ at = 2027-01-06T17:00:00 }",
                       "visit": "{ from = 2027-01-11, to = 2027-01-15 }", "summary": "{ on = 2027-01-22 }"}.items():
        source = re.sub(rf"^{key} = .*$", f"{key} = {value}", source, count=1, flags=re.M)
    plan = tmp_path / "late-december.toml"
    plan.write_text(source, encoding="utf-8")
    assert loaded("campaign", "create", plan, "--now", "2026-12-21T10:00").code == 0
    assert loaded(*commit_draw_args(DEC), "--now", "2026-12-30T08:30").code == 0
    monkeypatch.delenv("SSJ_CALENDAR_FILES")  # confirmations are due two working days later: in 2027

    before = snapshot(db_url)
    drawn = loaded(*run_draw_args(DEC), "--witness", "w", "--now", "2026-12-30T09:00")
    assert drawn.code == 1 and ADD_THE_FILE in drawn.err and "内部错误" not in drawn.err, drawn.err
    assert snapshot(db_url) == before, "the draw is not half-recorded"
    assert loaded("audit", "verify").code == 0

    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    assert loaded(*run_draw_args(DEC), "--witness", "w", "--now", "2026-12-30T09:00").code == 0
    assert loaded("draw", "verify", DEC).code == 0
    assert loaded("audit", "verify").code == 0
