"""Steps of the campaign's timeline whose time has come, and what the office watches happen.

The tick reminds the office when the planned public draw has passed without it
(once a day), asks the office for the draw parties' commitments to the officer
draw once confirmations close (once; it never commits by itself), dispatches the
一企一表 once the officer draw has been run, and turns the audit chain's new
transitions into events for the office's automations — each exactly once: every
step reads the database first and writes in one transaction, so a step killed
half-way is simply taken again by the next tick.
"""

from __future__ import annotations

import json

from workflow.audit import campaign_chain
from workflow.deadline_words import instant_words
from workflow.inspection import CONFIRMED, SAMPLED
from workflow.letter import group_greeting, signature
from workflow.machine import MOVES
from workflow.mail import mails
from workflow.persistence.draws import ENTERPRISES, OFFICERS
from workflow.services.forms import FormsReport, generate_forms
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
                               context={"greeting": group_greeting(), "campaign_name": plan.name,
                                        "campaign_code": plan.code, "draw_at": instant_words(plan.draw_at, plan.tz),
                                        "now": instant_words(uow.now, plan.tz), "signature": signature(plan)}))


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


def request_officer_commitments(uow) -> int:
    """Once every confirmation is closed, ask the office (once) for the draw parties' commitments; returns the mails
    queued (0 when asked already).

    The tick commits nothing: each party draws its own secret on its own device (``ssj draw secret``) and hands
    the office only its commitment, so no one — the system included — holds what decides the teams before the
    public draw. Nothing happens before the public enterprise draw, while an enterprise still waits for an
    answer, or once the office has committed (``ssj match commit``). The mail's key is the campaign's alone: a
    later tick queues nothing more.
    """
    with uow:
        plan = uow.plan
        if not uow.draws.was_run(plan.code, ENTERPRISES) or uow.draws.current(plan.code, OFFICERS) is not None:
            return 0
        waiting = uow.inspections.any_in(plan.code, SAMPLED)  # one indexed row each, however many inspections
        if waiting or not uow.inspections.any_in(plan.code, CONFIRMED):
            return 0
        return uow.queue(mails(f"match-commitments|{plan.code}", plan.office_mailboxes, kind="match_commitments",
                               template="match_commitments",
                               context={"greeting": group_greeting(), "campaign_name": plan.name,
                                        "campaign_code": plan.code, "at": instant_words(uow.now, plan.tz),
                                        "parties": list(plan.draw_parties), "signature": signature(plan),
                                        "confirmed": len(uow.inspections.in_campaign(plan.code, state=CONFIRMED))}))


def dispatch_forms(uow) -> FormsReport | None:
    """Once the officer draw has been run, the 一企一表, the visit schedule and their dispatch to the officers.

    Runs while confirmed enterprises wait for their forms — so a dispatch killed
    before its commit is simply done again; ``generate_forms`` refuses (the office
    is told by the tick's log) when the visits cannot be scheduled.
    """
    with uow:
        waiting = uow.draws.was_run(uow.plan.code, OFFICERS) and uow.inspections.any_in(uow.plan.code, CONFIRMED)
    return generate_forms(uow) if waiting else None
