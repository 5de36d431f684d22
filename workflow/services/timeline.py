"""Steps of the campaign's timeline whose time has come, and what the office watches happen.

The tick reminds the office when the planned public draw has passed without it
(once a day), commits the officer draw once confirmations close, dispatches the
一企一表 once the officer draw has been run, and turns the audit chain's new
transitions into events for the office's automations — each exactly once: every
step reads the database first and writes in one transaction, so a step killed
half-way is simply taken again by the next tick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from workflow.audit import campaign_chain
from workflow.inspection import CONFIRMED, SAMPLED
from workflow.machine import MOVES
from workflow.mail import mails
from workflow.persistence.draws import ENTERPRISES, OFFICERS, RoundTaken
from workflow.services.forms import FormsReport, generate_forms
from workflow.services.officer_draw import commit_match
from workflow.services.inspections import SAMPLE

TRANSITIONS = {SAMPLE, *(m.trigger for m in MOVES)}


def remind_pending_draw(uow) -> int:
    """Queue the office's reminder when ``draw_at`` has passed and no public draw was run (once a day)."""
    with uow:
        plan = uow.plan
        if uow.now < plan.draw_at or uow.draws.was_run(plan.code, ENTERPRISES):
            return 0
        local = uow.now.astimezone(plan.tz)
        return uow.queue(mails(f"draw-pending|{plan.code}|{local.date().isoformat()}", plan.office_mailboxes,
                               kind="draw_pending", template="draw_pending",
                               context={"campaign_name": plan.name, "campaign_code": plan.code,
                                        "draw_at": f"{plan.draw_at.astimezone(plan.tz):%Y-%m-%d %H:%M}",
                                        "now": f"{local:%Y-%m-%d %H:%M}"}))


def new_transitions(uow) -> list[dict]:
    """The campaign's transitions recorded since the last call (and the cursor moved past them)."""
    with uow:
        plan = uow.plan
        rows = [r for r in uow.audit.unannounced(campaign_chain(plan.code)) if r.action in TRANSITIONS]
        names = uow.directory.enterprises(sorted({r.uscc for r in rows if r.uscc}))
    return [{"seq": r.seq, "trigger": r.action, "uscc": r.uscc, "from": r.from_state, "to": r.to_state,
             "at": r.occurred_at, "actor": r.actor, "payload": json.loads(r.payload),
             "enterprise": names[r.uscc].name if r.uscc in names else "", "campaign_name": plan.name}
            for r in rows]


def commit_officer_draw(uow, *, random_bytes: Callable[[int], bytes] = os.urandom) -> str | None:
    """Once every confirmation is closed, fix the officer pool and commit; the office gets the values to publish.

    Nothing happens before the public draw, while an enterprise still waits for an
    answer, or when the office has already committed (``ssj match commit``).
    """
    with uow:
        plan = uow.plan
        if not uow.draws.was_run(plan.code, ENTERPRISES) or uow.draws.current(plan.code, OFFICERS) is not None:
            return None
        states = uow.inspections.states(plan.code)
        if SAMPLED in states or CONFIRMED not in states:
            return None
        try:
            record = commit_match(uow, random_bytes=random_bytes)  # its own block: a savepoint
        except RoundTaken:
            return None  # another tick committed at the same moment: theirs stands
        local = uow.now.astimezone(plan.tz)
        uow.queue(mails(f"match-commit|{plan.code}|{record.round}", plan.office_mailboxes, kind="match_committed",
                        template="match_committed",
                        context={"campaign_name": plan.name, "campaign_code": plan.code,
                                 "at": f"{local:%Y-%m-%d %H:%M}", "commitment": record.commitment,
                                 "snapshot_sha256": record.snapshot_sha256, "officers": record.eligible}))
    return record.commitment


def dispatch_forms(uow) -> FormsReport | None:
    """Once the officer draw has been run, the 一企一表, the visit schedule and their dispatch to the officers.

    Runs while confirmed enterprises wait for their forms — so a dispatch killed
    before its commit is simply done again; ``generate_forms`` refuses (the office
    is told by the tick's log) when the visits cannot be scheduled.
    """
    with uow:
        waiting = uow.draws.was_run(uow.plan.code, OFFICERS) and uow.inspections.any_in(uow.plan.code, CONFIRMED)
    return generate_forms(uow) if waiting else None
