"""The serving loop's list of active campaigns: a finished campaign is said once, in its audit chain, then left out."""

from __future__ import annotations

import json

from datetime import datetime, timezone

from sqlalchemy import select, update

from calendars import BEIJING
from tests.conftest import draw_campaign, rows
from workflow.identity import SYSTEM
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.campaigns import active_campaigns
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
AT = datetime(2020, 3, 2, 9, 0, tzinfo=BEIJING)


def active(db_url, codes=()):
    engine = make_engine(db_url)
    try:
        return active_campaigns(UnitOfWork(engine, now=AT, actor=SYSTEM), codes)
    finally:
        engine.dispose()


def test_a_finished_campaign_is_said_once_then_left_out(loaded, db_url):
    assert active(db_url).active == [], "no campaign yet: nothing to serve, and no error"
    draw_campaign(loaded)
    assert active(db_url).active == [CODE], "drawn, with open tasks: active"
    assert active(db_url, ["no-such-campaign"]).active == [], "a code that is not stored is simply not served"

    engine = make_engine(db_url)
    done = datetime(2020, 2, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:  # the work is over except for one message still to send
        conn.execute(update(orm.InspectionRow).values(state="published"))
        conn.execute(update(orm.TaskRow).where(orm.TaskRow.done_at.is_(None)).values(done_at=done, outcome="done"))
        waiting = conn.execute(select(orm.OutboxMessage.id).where(orm.OutboxMessage.sent_at.is_(None))).scalars().all()
        conn.execute(update(orm.OutboxMessage).where(orm.OutboxMessage.id.in_(waiting[1:]))
                     .values(sent_at=done, state="已发"))
    assert waiting and active(db_url).active == [CODE], "a message still to send keeps it running"
    with engine.begin() as conn:
        conn.execute(update(orm.OutboxMessage).values(sent_at=done, state="已发"))
    engine.dispose()

    first = active(db_url)
    assert first.active == [] and [f.code for f in first.finished] == [CODE]
    assert "已完成" in first.finished[0].note and "不再做期限检查" in first.finished[0].note
    second = active(db_url)
    assert second.active == [] and second.finished == [], "said once"
    said = rows(db_url, select(orm.AuditEvent.campaign_code, orm.AuditEvent.actor, orm.AuditEvent.payload)
                .where(orm.AuditEvent.action == "campaign_finished"))
    assert [(r.campaign_code, r.actor) for r in said] == [(CODE, SYSTEM)]
    verified = json.loads(loaded("audit", "verify", "--json").out)  # the states above were set in SQL: only the chain
    assert all(c["ok"] for c in verified["chains"]), "the row is in the campaign's hash chain"
