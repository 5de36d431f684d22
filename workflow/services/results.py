"""The joint visit and the back-fill, whichever way they come in (CLI entry or a filled 一企一表).

A recorded visit moves the enterprise 已分派 → 已检查 (the ``inspect`` guard is the
visit rule; the reactions start the back-fill and disclosure clocks). When every
item of the form has its result, the enterprise moves 已检查 → 已回填 and the
back-fill task closes — late if it is, and recorded as such. Every rule refuses
with a Chinese reason; the callers decide where the reason points (an option, or
a cell of the form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from workflow.errors import UserError
from workflow.inspection import Inspection, Visit
from workflow.machine import INSPECT, RECORD_RESULT, RECORD_VISIT, REPORT, VisitRecorded, require
from workflow.results import ABNORMAL_CODES, ItemResult, normalise_codes, result_problems
from workflow.services.facts import facts_for, form_items
from workflow.services.inspections import inspection_of
from workflow.services.permissions import require_team
from workflow.tasks import is_overdue, task_key

_VISIT_RULE = VisitRecorded()


def visit_of(day: date, officers: list[str], signature: str, note: str) -> Visit:
    """The visit as a person writes it: certificate numbers trimmed, each once."""
    return Visit(day, frozenset(c.strip() for c in officers if c.strip()), signature.strip(), note.strip())


def visit_findings(uow, inspection: Inspection, visit: Visit) -> list[tuple[str, str]]:
    """What the visit rule (the ``inspect`` guard) finds wrong with ``visit``, each with its field."""
    facts = facts_for(uow, INSPECT, [inspection])[inspection.id]
    facts.visit = visit
    return _VISIT_RULE.findings(inspection, facts)


def record_visit(uow, uscc: str, visit: Visit) -> Inspection:
    """Store the joint visit and move 已分派 → 已检查."""
    with uow:
        inspection = inspection_of(uow, uscc)
        require(inspection, RECORD_VISIT)
        require_team(uow, inspection, "记录实地核查")
        problems = [message for _, message in visit_findings(uow, inspection, visit)]
        if problems:
            raise UserError(f"企业 {uscc} 的实地核查不能记录：{'；'.join(problems)}",
                            [f"企业 {uscc} 的实地核查不能记录：", *(f"  {p}" for p in problems)])
        uow.inspections.store_visit(inspection.id, visit, now=uow.now, actor=uow.actor)
        uow.record("visit", uscc=uscc, payload={"date": visit.day.isoformat(), "officers": sorted(visit.officers_present),
                                                "signature": visit.signature, "note": visit.note})
        uow.move(inspection, INSPECT)
        return inspection


@dataclass(frozen=True)
class Recorded:
    abnormal: bool  # B, C or 6: grounds for 列入经营异常名录
    reported: bool  # that was the last item: the enterprise is 已回填
    late: bool  # … and its back-fill was late


def items_on_form(uow, inspection: Inspection) -> tuple[str, ...]:
    """The items on an enterprise's 一企一表: those of the departments that inspect it."""
    return form_items(uow.plan, uow.inspections.answers([inspection.id]).get(inspection.id, ()))


def result_of(item: str, codes: str | list[str], *, finding: str = "", method: str = "",
              handling: list[int] | None = None, handling_note: str = "", questions: int = 0) -> ItemResult:
    """An item's result from what a person writes: "A,B", "AB", "A、B" or a list; handling numbers."""
    if isinstance(codes, str):  # every code is one character: separators are optional
        codes = list(re.sub(r"[\s,，、;；/]+", "", codes))
    return ItemResult(item, normalise_codes(set(codes)), finding.strip(), method.strip(), frozenset(handling or ()),
                      handling_note.strip(), questions)


def record_result(uow, uscc: str, result: ItemResult) -> Recorded:
    """Store one item's result; the last item moves the enterprise to 已回填 (the ``report`` guard decides)."""
    with uow:
        plan = uow.plan
        inspection = inspection_of(uow, uscc)
        require(inspection, RECORD_RESULT)
        require_team(uow, inspection, "回填检查结果")
        items = items_on_form(uow, inspection)
        if result.item_code not in items:
            raise UserError(f"抽查事项“{result.item_code}”不在企业 {uscc} 的一企一表上（表上的事项：{'、'.join(items)}）")
        problems = result_problems(result)
        if problems:
            raise UserError(f"企业 {uscc} 抽查事项 {result.item_code} 的结果不能记录：{'；'.join(problems)}",
                            [f"企业 {uscc} 抽查事项 {result.item_code} 的结果不能记录：", *(f"  {p}" for p in problems)])
        uow.inspections.store_result(inspection.id, result, now=uow.now, actor=uow.actor)
        uow.record("result", uscc=uscc, payload={
            "item": result.item_code, "codes": sorted(result.codes), "finding": result.finding,
            "handling": sorted(result.handling), "questions": result.questions, "method": result.method,
            "handling_note": result.handling_note})
        abnormal = bool(result.codes & ABNORMAL_CODES)
        done = uow.inspections.results([inspection.id]).get(inspection.id, {})
        if not set(items) <= set(done):
            return Recorded(abnormal, False, False)
        due = uow.tasks.due_at(task_key("backfill", plan.code, inspection_id=inspection.id))
        uow.move(inspection, REPORT)
        return Recorded(abnormal, True, due is not None and is_overdue(due, uow.now))
