"""Faults a district or province meets: the database away, a directory that forgets an enterprise."""

from __future__ import annotations

import csv
import json
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.conftest import draw_campaign, free_port, snapshot
from tests.integration.conftest import CODE
from workflow.persistence import orm
from workflow.persistence.database import make_engine

BEIJING = ZoneInfo("Asia/Shanghai")


def drawn(ssj):
    return draw_campaign(ssj)["sampled"]


def test_an_unreachable_database_fails_the_tick_cleanly_and_the_next_one_catches_up(
        loaded, db_url, smtp_server, monkeypatch):
    inbox, _ = smtp_server
    drawn(loaded)
    assert loaded("tick", CODE, "--now", "2019-11-27T09:15").code == 0  # the dispatch goes out
    before = snapshot(db_url)
    sent = len(inbox.messages)
    monkeypatch.setenv("SSJ_DATABASE_URL", f"postgresql://root:secret@127.0.0.1:{free_port()}/test")
    for day in ("2019-11-28", "2019-11-29", "2019-12-02"):  # the server is away for days of ticks
        down = loaded("tick", CODE, "--now", f"{day}T09:30")
        assert down.code == 1 and "无法连接数据库" in down.err and "secret" not in down.err, down.err
    monkeypatch.setenv("SSJ_DATABASE_URL", db_url)
    assert snapshot(db_url) == before and len(inbox.messages) == sent, "the failed ticks changed nothing"

    back = json.loads(loaded("tick", CODE, "--now", "2019-12-04T09:30", "--json").out)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        t = orm.TaskRow
        levels = Counter(conn.execute(select(t.kind, t.escalation_level).where(t.done_at.is_(None))).all())
        o = orm.OutboxMessage
        per_recipient = Counter(conn.execute(select(o.recipient, o.kind).where(o.kind.in_(
            ("remind", "overdue", "escalate")))).all())
    engine.dispose()
    confirmations = sum(n for (kind, _), n in levels.items() if kind == "confirm")
    assert levels[("confirm", 4)] == confirmations, "late ticks do not pile up: the latest step only (the leader)"
    assert back["notices"] >= confirmations and set(per_recipient.values()) == {1}, \
        "one digest per person and stage, not one per missed tick"
    assert not any(kind in ("remind", "overdue") and r.startswith("leader@") for r, kind in per_recipient)
    assert json.loads(loaded("tick", CODE, "--now", "2019-12-04T09:45", "--json").out)["sent"] == 0


def test_a_sampled_enterprise_missing_from_the_next_export_stays_and_is_marked(loaded, db_url, district, tmp_path):
    sampled = drawn(loaded)
    gone = sampled[0]
    export = tmp_path / "enterprises.csv"
    with open(district["enterprises"], encoding="utf-8-sig", newline="") as src, \
            open(export, "w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        header = next(reader)
        writer.writerow(header)
        column = header.index("统一社会信用代码")
        writer.writerows(row for row in reader if row[column] != gone)
    result = loaded("import", "enterprises", export, "--full")
    assert result.code == 0, result.err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        listed = conn.execute(select(orm.Enterprise.in_latest_directory).where(orm.Enterprise.uscc == gone)).scalar()
        state = conn.execute(select(orm.InspectionRow.state).where(orm.InspectionRow.uscc == gone)).scalar()
    engine.dispose()
    assert listed is False, "marked 不在最新名录"
    assert state == "sampled", "its inspection goes on: nothing is deleted"


LOCAL_ADJUSTMENT = '''year = 2019
complete = false
source = "（测试）区政府临时调整：11 月 29 日放假"
holidays = ["2019-11-29"]
'''


def confirm_dues(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        t = orm.TaskRow
        found = Counter(conn.execute(select(t.due_at, t.escalation_level).where(t.kind == "confirm")).all())
    engine.dispose()
    return {(due.astimezone(BEIJING).strftime("%m-%d %H:%M"), level): n for (due, level), n in found.items()}


def test_a_broken_calendar_file_at_start_up_is_refused_and_the_adopted_calendar_stays(
        loaded, db_url, smtp_server, tmp_path, monkeypatch):
    local = tmp_path / "local-2019.toml"
    local.write_text(LOCAL_ADJUSTMENT, encoding="utf-8")
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(local))
    sampled = drawn(loaded)
    tasks = len(sampled) * 7
    # 11-27 09:00 + 2 working days, 11-29 a holiday here: due at the end of Mon 12-02
    assert confirm_dues(db_url) == {("12-03 00:00", 0): tasks}

    local.write_text(LOCAL_ADJUSTMENT.replace('["2019-11-29"]', '["2019-11-31"]'), encoding="utf-8")
    tick = loaded("tick", CODE, "--now", "2019-12-02T09:30")
    assert tick.code == 0, tick.err
    assert "工作日历文件有误，未采用" in tick.err and "local-2019.toml" in tick.err and "holidays" in tick.err
    assert "仍按上次采用的日历计算期限" in tick.err
    assert confirm_dues(db_url) == {("12-03 00:00", 1): tasks}, "reminded on the adopted calendar, not overdue"
    reload = loaded("calendar", "reload", CODE, "--now", "2019-12-02T09:40")
    assert reload.code == 2 and "local-2019.toml" in reload.err

    local.write_text(LOCAL_ADJUSTMENT.replace('["2019-11-29"]', '[]'), encoding="utf-8")  # corrected: no holiday
    fixed = loaded("tick", CODE, "--now", "2019-12-02T09:45")
    assert fixed.code == 0 and "有误" not in fixed.err
    assert confirm_dues(db_url) == {("11-30 00:00", 2): tasks}, \
        "the corrected file is adopted and acted on: overdue since Saturday, Monday not yet wholly passed"
