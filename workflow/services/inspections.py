"""Moving inspections: load, check the guard, write the move, its tasks and its audit row.

Services take a Connection (one transaction) and the campaign plan; ``attempt``
wraps one in a transaction and, when the move is refused, records the refusal
in the campaign's audit chain in a transaction of its own — the refused action
changes nothing else.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.deadlines import resolve_deadline
from workflow.errors import NotFound, UserError
from workflow.identity import is_office_staff
from workflow.inspection import Facts, Inspection, Moved
from workflow.machine import fire
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.inspections import InspectionRepository
from workflow.persistence.tasks import TaskRepository
from workflow.tasks import CANCELLED, DONE, NewTask

T = TypeVar("T")


def start_inspections(conn: Connection, plan: CampaignPlan, usccs: Sequence[str], *, now: datetime, actor: str,
                      calendar: WorkdayCalendar, draw_id: int | None = None) -> list[Inspection]:
    """Drawn enterprises enter ``sampled``, dispatched to every participating department.

    Each department's 比对确认 becomes a task due per the campaign's ``confirm`` deadline.
    """
    departments = [d.code for d in plan.departments]
    added = InspectionRepository(conn).add(plan.code, usccs, departments, now, draw_id)
    due = resolve_deadline(plan.deadlines["confirm"], calendar, now)
    TaskRepository(conn).open((NewTask("confirm", plan.code, due, i.id, department=d)
                               for i in added for d in departments), now)
    AuditLog(conn).append(campaign_chain(plan.code), (
        Entry("sampled", actor, now, plan.code, i.uscc, None, "sampled",
              {"departments": departments, "confirm_due": due.at.isoformat(), "provisional": due.provisional})
        for i in added
    ))
    return added


def facts_for(repo: InspectionRepository, plan: CampaignPlan, trigger: str, inspections: Sequence[Inspection], *,
              actor: str, reason: str = "") -> dict[int, Facts]:
    """What the guard of ``trigger`` reads, for each inspection, loaded in batches."""
    ids = [i.id for i in inspections]
    office = is_office_staff(plan, actor)
    base = {"actor": actor, "actor_is_office": office, "reason": reason,
            "officers_per_enterprise": plan.matching.officers_per_enterprise,
            "per_department_minimum": plan.matching.per_department_minimum}
    visit_spec = plan.deadlines["visit"]
    answers = repo.answers(ids) if trigger in ("confirm", "assign", "report") else {}
    teams = repo.teams(ids) if trigger in ("assign", "inspect") else {}
    forms = repo.forms_generated(ids) if trigger == "assign" else set()
    visits = repo.visits(ids) if trigger in ("inspect", "report") else {}
    results = repo.results(ids) if trigger == "report" else {}
    if trigger in ("publish", "withdraw"):  # nothing per inspection: one value serves the batch
        shared = Facts(**base)
        return {i.id: shared for i in inspections}
    items_of = {d.code: d.items for d in plan.departments}
    facts = {}
    for i in inspections:
        f = Facts(**base, answers=answers.get(i.id, ()), team=teams.get(i.id, ()), forms_generated=i.id in forms,
                  visit=visits.get(i.id), visit_window=(visit_spec.start, visit_spec.end),
                  results=results.get(i.id, {}))
        f.form_items = tuple(code for a in f.inspecting_departments() for code in items_of.get(a.department, ()))
        facts[i.id] = f
    return facts


def _audit_moves(conn: Connection, plan: CampaignPlan, moved: Sequence[tuple[Inspection, Moved]]) -> None:
    AuditLog(conn).append(campaign_chain(plan.code), (
        Entry(m.trigger, m.actor, m.at, plan.code, i.uscc, m.source, m.dest, m.payload) for i, m in moved
    ))


def _after_moves(conn: Connection, moved: Sequence[tuple[Inspection, Moved]]) -> None:
    """Tasks follow the state: publishing closes the disclosure task; withdrawing cancels all open work."""
    tasks = TaskRepository(conn)
    published = [(inspection.id, m.at) for inspection, m in moved if m.dest == "published"]
    if published:
        tasks.close_many("publish", published, outcome=DONE)
    for inspection, m in moved:
        if m.dest == "withdrawn":
            tasks.close(inspection_id=inspection.id, outcome=CANCELLED, now=m.at)


def move(conn: Connection, plan: CampaignPlan, uscc: str, trigger: str, *, now: datetime, actor: str,
         reason: str = "") -> Moved:
    """Move one inspection (row-locked); refused moves raise and write nothing."""
    repo = InspectionRepository(conn)
    inspection = repo.get(plan.code, uscc, lock=True)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
    facts = facts_for(repo, plan, trigger, [inspection], actor=actor, reason=reason)[inspection.id]
    moved = fire(inspection, trigger, facts, now)
    repo.save([inspection])
    _after_moves(conn, [(inspection, moved)])
    _audit_moves(conn, plan, [(inspection, moved)])
    return moved


def move_many(conn: Connection, plan: CampaignPlan, inspections: Sequence[Inspection], trigger: str, *,
              now: datetime, actor: str) -> tuple[list[Inspection], list[tuple[Inspection, UserError]]]:
    """Move a batch by one trigger: those whose guard passes move, the others are returned with why."""
    repo = InspectionRepository(conn)
    facts = facts_for(repo, plan, trigger, inspections, actor=actor)
    moved, refused = [], []
    for inspection in inspections:
        try:
            moved.append((inspection, fire(inspection, trigger, facts[inspection.id], now)))
        except UserError as exc:
            refused.append((inspection, exc))
    repo.save(i for i, _ in moved)
    _after_moves(conn, moved)
    _audit_moves(conn, plan, moved)
    return [i for i, _ in moved], refused


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


def move_all(engine: Engine, plan: CampaignPlan, trigger: str, *, source: str, now: datetime, actor: str,
             batch: int = 5000) -> BatchReport:
    """Move every inspection of the campaign in ``source`` by ``trigger``, one transaction per batch.

    What ``ssj publish`` and the campaign tick do. Batches already moved stay moved when
    a later one fails (e.g. ``ConcurrentChange``: someone moved one of its inspections
    meanwhile); running it again moves what is still in ``source``.
    """
    with engine.connect() as conn:
        loaded = InspectionRepository(conn).in_campaign(plan.code, state=source)
    report = BatchReport()
    with _working_set():
        for start in range(0, len(loaded), batch):
            with engine.begin() as conn:
                moved, refused = move_many(conn, plan, loaded[start:start + batch], trigger, now=now, actor=actor)
            report.moved += len(moved)
            report.refused += [(i.uscc, exc.lines) for i, exc in refused]
    return report


@contextmanager
def refusals_audited(engine: Engine, *, plan: CampaignPlan, uscc: str | None, what: str, now: datetime,
                     actor: str) -> Iterator[None]:
    """A refusal (UserError) inside the block is recorded in the campaign's chain, then re-raised."""
    try:
        yield
    except UserError as exc:
        with engine.begin() as conn:
            AuditLog(conn).append(campaign_chain(plan.code), [
                Entry("refused", actor, now, plan.code, uscc, payload={"action": what, "message": exc.lines})
            ])
        raise


def attempt(engine: Engine, action: Callable[[Connection], T], *, plan: CampaignPlan, uscc: str | None, what: str,
            now: datetime, actor: str) -> T:
    """Run ``action`` in one transaction; a refusal is audited on its own, then re-raised."""
    with refusals_audited(engine, plan=plan, uscc=uscc, what=what, now=now, actor=actor):
        with engine.begin() as conn:
            return action(conn)
