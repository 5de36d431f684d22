"""What the guard of a trigger reads, for each inspection, loaded in batches (only what that guard needs)."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.identity import is_office_staff
from workflow.inspection import Facts, Inspection
from workflow.machine import ASSIGN, CONFIRM, INSPECT, PUBLISH, REPORT, WITHDRAW


def form_items(plan, answers) -> tuple[str, ...]:
    """The items on an enterprise's 一企一表: those of the departments that inspect it, in the plan's order."""
    items_of = {d.code: d.items for d in plan.departments}
    return tuple(code for a in answers if a.inspects for code in items_of.get(a.department, ()))


def facts_for(uow, trigger: str, inspections: Sequence[Inspection], *, reason: str = "") -> dict[int, Facts]:
    plan, repo = uow.plan, uow.inspections
    base = {"actor": uow.actor, "actor_is_office": is_office_staff(plan, uow.actor), "reason": reason,
            "officers_per_enterprise": plan.matching.officers_per_enterprise,
            "per_department_minimum": plan.matching.per_department_minimum}
    if trigger in (PUBLISH, WITHDRAW):  # nothing per inspection: one value serves the batch
        shared = Facts(**base)
        return {i.id: shared for i in inspections}
    ids = [i.id for i in inspections]
    answers = repo.answers(ids) if trigger in (CONFIRM, ASSIGN, REPORT) else {}
    teams = repo.teams(ids) if trigger in (ASSIGN, INSPECT) else {}
    forms = repo.forms_generated(ids) if trigger == ASSIGN else set()
    visits = repo.visits(ids) if trigger in (INSPECT, REPORT) else {}
    results = repo.results(ids) if trigger == REPORT else {}
    window = plan.deadlines["visit"]
    return {i.id: Facts(**base, answers=answers.get(i.id, ()), team=teams.get(i.id, ()), forms_generated=i.id in forms,
                        visit=visits.get(i.id), visit_window=(window.start, window.end), results=results.get(i.id, {}),
                        form_items=form_items(plan, answers.get(i.id, ())))
            for i in inspections}
