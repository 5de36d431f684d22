"""A year's calendar file arriving mid-campaign moves the stored deadlines — never a provisional one earlier."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import EXAMPLE_CAMPAIGN
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.inspections import start_inspections
from workflow.services.uow import UnitOfWork

BEIJING = ZoneInfo("Asia/Shanghai")
FICTIONAL_2027 = Path(__file__).resolve().parents[1] / "unit" / "calendar_files" / "fictional-2027.toml"
CODE = "luquan-2027-h2"  # the seed file moved to 2027 (its code too)


@pytest.fixture
def campaign_2027(loaded, db_url, tmp_path, monkeypatch):
    """The seed campaign moved to 2027, a year chinese-calendar does not know: provisional deadlines."""
    monkeypatch.delenv("SSJ_CALENDAR_FILES", raising=False)
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace("2019-", "2027-").replace(
        "provisional_calendar = false", "provisional_calendar = true")
    (tmp_path / "c2027.toml").write_text(source, encoding="utf-8")
    assert loaded("campaign", "create", tmp_path / "c2027.toml", "--now", "2027-09-20T10:00").code == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        usccs = list(conn.execute(select(orm.Enterprise.uscc).order_by(orm.Enterprise.uscc).limit(3)).scalars())
    # Fri 09-24 + 2 working days; Wed 09-29 + 2 working days (National Day follows), two enterprises.
    for drawn, day in (([usccs[0]], 24), (usccs[1:], 29)):
        with UnitOfWork(engine, now=datetime(2027, 9, day, 10, tzinfo=BEIJING), actor="x", campaign=CODE) as uow:
            start_inspections(uow, drawn)
    yield loaded, engine, usccs
    engine.dispose()


def dues(engine, uscc):
    with engine.connect() as conn:
        return {(t.due_at, t.provisional) for t in conn.execute(
            select(orm.TaskRow.due_at, orm.TaskRow.provisional).join(
                orm.InspectionRow, orm.InspectionRow.id == orm.TaskRow.inspection_id)
            .where(orm.InspectionRow.uscc == uscc, orm.TaskRow.kind == "confirm"))}


def utc(*args):
    return datetime(*args, tzinfo=BEIJING).astimezone(timezone.utc)


def test_a_years_file_moves_deadlines_later_but_never_earlier_when_provisional(campaign_2027, monkeypatch):
    ssj, engine, (early, late, _) = campaign_2027
    # Provisional (statutory holidays only): 09-24 → Mon 09-27, Tue 09-28; 09-29 → 09-30, Mon 10-04.
    assert dues(engine, early) == {(utc(2027, 9, 29), True)}
    assert dues(engine, late) == {(utc(2027, 10, 5), True)}
    assert ssj("tick", CODE, "--now", "2027-09-29T12:00", "--no-mail").code == 0
    monkeypatch.setenv("SSJ_CALENDAR_FILES", str(FICTIONAL_2027))
    # The year's file: Sun 09-26 is a working day (it would bring 09-24's deadline forward to 09-27: kept),
    # 10-01..10-07 are holidays (09-29's deadline moves to the end of Fri 10-08).
    result = ssj("tick", CODE, "--now", "2027-09-29T12:05", "--no-mail")
    assert result.code == 0, result.err
    assert "暂定期限不提前" in result.err
    assert dues(engine, early) == {(utc(2027, 9, 29), False)}
    assert dues(engine, late) == {(utc(2027, 10, 9), False)}
    with engine.connect() as conn:
        moved = conn.execute(select(orm.AuditEvent.payload).where(orm.AuditEvent.action == "deadline_moved")).all()
        mails = conn.execute(select(orm.OutboxMessage.recipient, orm.OutboxMessage.context).where(
            orm.OutboxMessage.template == "deadline_moved")).all()
        late_name = conn.execute(select(orm.Enterprise.name).where(orm.Enterprise.uscc == late)).scalar_one()
    assert len(moved) == 21, "all re-resolved and audited"
    assert len(mails) == 7 and len({to for to, _ in mails}) == 7, "one message per person for the whole reload"
    for _, context in mails:  # only the moved ones announced, each in the notice's words
        assert re.fullmatch(r"\S+(管理员|联络人)\S+同志：您好！", json.loads(context)["greeting"]), "by name and role"
        rows = json.loads(context)["rows"]
        assert [(r["task"], r["before"], r["after"]) for r in rows] == [
            ("部门比对确认", "2027年10月4日（星期一）前", "2027年10月8日（星期五）前")] * 2
        assert late_name in {r["enterprise"] for r in rows}
    again = ssj("tick", CODE, "--now", "2027-09-29T12:10", "--no-mail")
    assert again.code == 0 and "期限调整" not in again.err, "the same files move nothing twice"
    forced = ssj("calendar", "reload", CODE, "--now", "2027-09-29T12:15")
    assert forced.code == 0 and "调整 0 项" in forced.out
    assert ssj("audit", "verify").code == 0
