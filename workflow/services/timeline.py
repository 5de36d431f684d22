"""Steps of the campaign's timeline that people must take, and what the office watches happen.

The tick reminds the office when the planned public draw has passed without it
(once a day), and turns the audit chain's new transitions into events for the
office's automations — each exactly once, by a cursor kept in the database.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from workflow.audit import campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.machine import MOVES
from workflow.persistence import orm
from workflow.services.outbox import queue

TRANSITIONS = {"sampled", *(m.trigger for m in MOVES)}


def remind_pending_draw(engine: Engine, plan: CampaignPlan, *, now: datetime) -> int:
    """Queue the office's reminder when ``draw_at`` has passed and no public draw was run (once a day)."""
    if now < plan.draw_at:
        return 0
    d = orm.DrawRow
    with engine.begin() as conn:
        ran = conn.execute(select(d.id).where(d.campaign_code == plan.code, d.kind == "enterprises",
                                              d.run_at.is_not(None))).first()
        if ran:
            return 0
        local = now.astimezone(plan.tz)
        recipients = list(dict.fromkeys(e for e in (plan.email_office, *plan.office_staff) if e))
        return queue(conn, plan, key=f"draw-pending|{plan.code}|{local.date().isoformat()}", recipients=recipients,
                     kind="draw_pending", template="draw_pending", now=now,
                     context={"campaign_name": plan.name, "campaign_code": plan.code,
                              "draw_at": f"{plan.draw_at.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                              "now": f"{local:%Y-%m-%d %H:%M}"})


def new_transitions(engine: Engine, plan: CampaignPlan) -> list[dict]:
    """The campaign's transitions recorded since the last call (and the cursor moved past them)."""
    chain, e, c = campaign_chain(plan.code), orm.AuditEvent, orm.EventCursor.__table__
    with engine.begin() as conn:
        last = _cursor(conn, chain)
        rows = conn.execute(select(e.seq, e.action, e.uscc, e.from_state, e.to_state, e.occurred_at, e.actor, e.payload)
                            .where(e.chain == chain, e.seq > last).order_by(e.seq)).all()
        if rows:
            conn.execute(update(c).where(c.c.chain == chain).values(last_seq=rows[-1].seq))
    return [{"seq": r.seq, "trigger": r.action, "uscc": r.uscc, "from": r.from_state, "to": r.to_state,
             "at": r.occurred_at, "actor": r.actor, "payload": json.loads(r.payload)}
            for r in rows if r.action in TRANSITIONS]


def _cursor(conn: Connection, chain: str) -> int:
    c = orm.EventCursor.__table__
    found = conn.execute(select(c.c.last_seq).where(c.c.chain == chain).with_for_update()).scalar()
    if found is None:
        conn.execute(c.insert().values(chain=chain, last_seq=0))
        return 0
    return found
