"""Steps of the campaign's timeline whose time has come, and what the office watches happen.

The tick reminds the office when the planned public draw has passed without it
(once a day), commits the officer draw once confirmations close, dispatches the
一企一表 once the officer draw has been run, and turns the audit chain's new
transitions into events for the office's automations — each exactly once, by a
cursor kept in the database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from calendars import WorkdayCalendar
from workflow.audit import campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.machine import MOVES
from workflow.persistence import orm
from workflow.services.draws import ENTERPRISES, current_draw
from workflow.services.forms import FormsReport, generate_forms
from workflow.services.officer_draw import OFFICERS, commit_match
from workflow.services.outbox import queue

TRANSITIONS = {"sampled", *(m.trigger for m in MOVES)}


def remind_pending_draw(engine: Engine, plan: CampaignPlan, *, now: datetime) -> int:
    """Queue the office's reminder when ``draw_at`` has passed and no public draw was run (once a day)."""
    if now < plan.draw_at:
        return 0
    with engine.begin() as conn:
        if _draw_run(conn, plan, ENTERPRISES):
            return 0
        local = now.astimezone(plan.tz)
        return queue(conn, plan, key=f"draw-pending|{plan.code}|{local.date().isoformat()}",
                     recipients=plan.office_mailboxes,
                     kind="draw_pending", template="draw_pending", now=now,
                     context={"campaign_name": plan.name, "campaign_code": plan.code,
                              "draw_at": f"{plan.draw_at.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                              "now": f"{local:%Y-%m-%d %H:%M}"})


def _draw_run(conn: Connection, plan: CampaignPlan, kind: str) -> bool:
    """Whether the public draw of ``kind`` (enterprises or officers) has been run for the campaign."""
    d = orm.DrawRow
    return conn.execute(select(d.id).where(d.campaign_code == plan.code, d.kind == kind,
                                           d.run_at.is_not(None))).first() is not None


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


def commit_officer_draw(engine: Engine, plan: CampaignPlan, *, now: datetime, actor: str,
                        random_bytes: Callable[[int], bytes] = os.urandom) -> str | None:
    """Once every confirmation is closed, fix the officer pool and commit; the office gets the values to publish.

    Nothing happens before the public draw, while an enterprise still waits for an
    answer, or when the office has already committed (``ssj match commit``).
    """
    i = orm.InspectionRow
    with engine.begin() as conn:
        if not _draw_run(conn, plan, ENTERPRISES) or current_draw(conn, plan.code, OFFICERS) is not None:
            return None
        states = set(conn.execute(select(i.state).where(i.campaign_code == plan.code).distinct()).scalars())
        if "sampled" in states or "confirmed" not in states:
            return None
        try:
            with conn.begin_nested():
                record = commit_match(conn, plan, now=now, actor=actor, random_bytes=random_bytes)
        except IntegrityError:
            return None  # another tick committed at the same moment: theirs stands
        local = now.astimezone(plan.tz)
        queue(conn, plan, key=f"match-commit|{plan.code}|{record.round}", recipients=plan.office_mailboxes,
              kind="match_committed", template="match_committed", now=now,
              context={"campaign_name": plan.name, "campaign_code": plan.code, "at": f"{local:%Y-%m-%d %H:%M}",
                       "commitment": record.commitment, "snapshot_sha256": record.snapshot_sha256,
                       "officers": record.eligible})
    return record.commitment


def dispatch_forms(engine: Engine, plan: CampaignPlan, files_dir: Path, *, now: datetime, actor: str,
                   calendar: WorkdayCalendar) -> FormsReport | None:
    """Once the officer draw has been run, the 一企一表, the visit schedule and their dispatch to the officers.

    Runs while confirmed enterprises wait for their forms; ``generate_forms``
    refuses (the office is told by the tick's log) when the visits cannot be scheduled.
    """
    i = orm.InspectionRow
    with engine.connect() as conn:
        waiting = _draw_run(conn, plan, OFFICERS) and conn.execute(select(i.id).where(i.campaign_code == plan.code, i.state == "confirmed")
                                       .limit(1)).first()
    if not waiting:
        return None
    return generate_forms(engine, plan, files_dir, now=now, actor=actor, calendar=calendar)
