"""Inspections entering the campaign, and moves that are nothing but a move (withdraw, publish-all).

The move itself — guard, row, reactions, audit — is the unit of work's
(``UnitOfWork.move``); handlers here find the inspection and say which trigger.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from workflow.deadlines import resolve_deadline
from workflow.errors import NotFound
from workflow.inspection import SAMPLED, Inspection, Moved
from workflow.machine import WITHDRAW
from workflow.services.reactions import react

SAMPLE = "sampled"  # the audit action of an inspection's start (drawn and dispatched)


def inspection_of(uow, uscc: str, *, lock: bool = True) -> Inspection:
    """The campaign's inspection of ``uscc`` (row-locked by default), or NotFound in Chinese."""
    inspection = uow.inspections.get(uow.plan.code, uscc, lock=lock)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{uow.plan.code}”的抽查对象")
    return inspection


def start_inspections(uow, usccs: Sequence[str], *, draw_id: int | None = None) -> list[Inspection]:
    """Drawn enterprises enter ``sampled``, dispatched to every participating department (``reactions``: their tasks)."""
    plan = uow.plan
    departments = list(plan.department_codes)
    added = uow.inspections.add(plan.code, usccs, departments, uow.now, draw_id)
    react(uow, [(i, Moved(SAMPLE, "", SAMPLED, uow.now, uow.actor, None)) for i in added])
    due = resolve_deadline(plan.deadlines["confirm"], uow.calendar, uow.now)
    payload = {"departments": departments, "confirm_due": due.at.isoformat(), "provisional": due.provisional}
    uow.record_all((SAMPLE, i.uscc, payload, SAMPLED) for i in added)
    return added


def withdraw(uow, uscc: str, *, reason: str) -> Moved:
    """The office takes a drawn enterprise out, with the reason (its open work is cancelled)."""
    with uow:
        return uow.move(inspection_of(uow, uscc), WITHDRAW, reason=reason)


@dataclass
class BatchReport:
    moved: int = 0
    refused: list[tuple[str, list[str]]] = field(default_factory=list)  # (USCC, why)


@contextmanager
def _working_set() -> Iterator[None]:
    """Exempt what is loaded so far from the cyclic garbage collector while a long batch runs.

    100,000 loaded inspections would otherwise be traversed by every full
    collection the batch triggers; they are still freed by reference counting.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def move_all(uow, trigger: str, *, source: str) -> BatchReport:
    """Move every inspection of the campaign in ``source`` by ``trigger``, as one batch in the unit of work's
    transaction: the reactions see the whole batch at once (an officer's mail lists all his enterprises).

    Those whose guard refuses stay, with why.
    """
    with _working_set():
        moved, refused = uow.move_many(uow.inspections.in_campaign(uow.plan.code, state=source), trigger)
    return BatchReport(len(moved), [(i.uscc, exc.lines) for i, exc in refused])
