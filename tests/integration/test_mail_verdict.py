"""What ``ssj tick`` and the board say about a campaign's mail (issue 15), on SQLite and PostgreSQL, real SMTP on
loopback: no SMTP settings refuse the tick before anything; ``--no-mail`` says 未发信; mail failing now is said as an
错误 line with the count and the reason in Chinese (exit 1); a 退信 fails the run it happened in, not every later one, and stays
on the board with its recipient and the server's reply.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign, rows, serve_smtp, snapshot
from tests.integration.test_mail_faults import Server, engine, server  # noqa: F401 (the same fixtures)
from workflow.identity import SYSTEM
from workflow.persistence import orm
from workflow.services.mail_health import judge_mail, mail_health
from workflow.services.outbox import send_outbox
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
OTHER = "luquan-2020-h1"
BEIJING = ZoneInfo("Asia/Shanghai")
_o = orm.OutboxMessage.__table__


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def test_ssj_tick_without_smtp_settings_exits_2_naming_ssj_smtp_host_and_changes_nothing(loaded, db_url, monkeypatch):
    draw_campaign(loaded)
    before = snapshot(db_url)
    monkeypatch.delenv("SSJ_SMTP_HOST")
    refused = loaded("tick", CODE, "--now", "2019-11-28T09:30")
    assert refused.code == 2 and refused.out == ""
    assert "SSJ_SMTP_HOST" in refused.err and "未配置发信服务器" in refused.err and "--no-mail" in refused.err
    assert snapshot(db_url) == before, "no audit row, no task moved, nothing queued or sent"

    quiet = loaded("tick", CODE, "--now", "2019-11-28T09:30", "--no-mail")
    assert quiet.code == 0 and "未发信（--no-mail）" in quiet.err
    assert "发送 0 封" in quiet.out and "错误" not in quiet.err, "not sending is not a failure when asked for"
    attempted = rows(db_url, select(_o.c.id).where(_o.c.attempts > 0))
    assert attempted == [], "nothing was tried"


def test_ssj_tick_says_mail_failing_with_its_count_and_reason_in_chinese(loaded, db_url):
    """The ``ssj`` fixture's default: a mail server that is down (nothing listens on its port)."""
    draw_campaign(loaded)
    result = loaded("tick", CODE, "--now", "2019-11-27T09:15")
    assert result.code == 1, "the tick's own work is done, its mail failing: said on stderr, exit 1 (README)"
    [line] = [x for x in result.err_lines if x.startswith("错误：")]
    assert line.startswith(f"错误：抽查任务 {CODE} 邮件发送失败 7 封：无法连接邮件服务器 127.0.0.1:"), line
    assert "连接被拒绝" in line and "Connection refused" in line and "ConnectionRefusedError" not in line
    again = loaded("tick", CODE, "--now", "2019-11-27T09:20", "--json")
    doc = json.loads(again.out)
    assert again.code == 1 and doc["mail_failed"] == 7 and doc["mail_message"].startswith("邮件发送失败 7 封")


def test_a_bounce_fails_the_run_it_happens_in_and_then_waits_on_the_board(loaded, engine, server):
    draw_campaign(loaded)
    [refused] = [r for r in rows_of(engine) if r.kind == "dispatch"][:1]
    server.refuse.add(refused.recipient)
    first = loaded("tick", CODE, "--now", "2019-11-27T09:05")
    assert first.code == 1 and "错误：抽查任务 luquan-2019-h2 邮件发送失败 1 封：" in first.err
    assert "拒收（第 1 次" in first.err
    loaded("tick", CODE, "--now", "2019-11-27T09:10")
    third = loaded("tick", CODE, "--now", "2019-11-27T09:20")
    assert third.code == 1 and "邮件发送失败 1 封" in third.err and "本次退信 1 封" in third.err, third.err
    later = loaded("tick", CODE, "--now", "2019-11-27T09:40")
    assert later.code == 0 and "错误" not in later.err, "an earlier bounce does not fail every later tick"
    assert "警告" in later.err and "退信 1 封" in later.err, "it is still said, every run, until the office acts"
    health = mail_health(UnitOfWork(engine, now=at("2019-11-27T09:40"), actor=SYSTEM, campaign=CODE, changes=False))
    assert health.problems["退信"] == 1 and health.failing == 0 and health.sent_today == 6
    [(recipient, reply)] = health.bounced
    assert recipient == refused.recipient and "550 5.1.1" in reply and "User unknown" in reply
    lines = "\n".join(health.lines(BEIJING))
    assert f"退信：{refused.recipient}，服务器答复：" in lines and "待发 0 封，今日已发 6 封" in lines


def test_each_campaign_is_judged_on_its_own_mail(loaded, engine, tmp_path, monkeypatch):
    """One sender's run moves every campaign's mail; each campaign's verdict counts only its own messages."""
    draw_campaign(loaded)
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(CODE, OTHER), encoding="utf-8")
    draw_campaign(loaded, other, OTHER)
    with engine.begin() as conn:  # the same departments: the other campaign's copies go to addresses that bounce
        conn.execute(update(_o).where(_o.c.campaign_code == OTHER).values(recipient="gone@refused.luquan.example"))
    handler = Server()
    with serve_smtp(handler, monkeypatch) as smtp:
        handler.refuse.add("gone@refused.luquan.example")
        now = at("2019-11-27T09:05")
        report = send_outbox(UnitOfWork(engine, now=now, actor=SYSTEM), smtp, worker="test")
    mine, theirs = report.of(CODE), report.of(OTHER)
    assert mine.sent == 7 and mine.failed == 0 and theirs.failed == 7 and theirs.sent == 0
    ok = judge_mail(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE, changes=False), mine)
    bad = judge_mail(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=OTHER, changes=False), theirs)
    assert not ok.failed and ok.message == ""
    assert bad.failed and bad.count == 7 and bad.message.startswith("邮件发送失败 7 封：邮件服务器拒收（第 1 次")
    assert bad.payload["抽查任务"] == OTHER and bad.payload["待重试（封）"] == 7


def test_a_sender_without_a_server_is_judged_failed_but_no_mail_is_not(loaded, engine):
    draw_campaign(loaded)
    now = at("2019-11-27T09:05")
    unit = UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE, changes=False)
    missing = judge_mail(unit, None, not_configured="未配置发信服务器：请设置环境变量 SSJ_SMTP_HOST")
    assert missing.failed and missing.count == 7 and "SSJ_SMTP_HOST" in missing.message
    off = judge_mail(unit, None, enabled=False)
    assert not off.failed and off.message == "未发信（--no-mail）：待发 7 封留在发件箱"


def rows_of(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(_o).order_by(_o.c.id)).all()
