"""Small questions people ask of a campaign (who is on which team, when is the next notice due …), one each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from workflow.inspection import ASSIGNED
from workflow.services.inspections import inspection_of
from workflow.services.results import items_on_form
from workflow.tasks import task_key


def enterprise_names(uow, usccs: Sequence[str]) -> dict[str, str]:
    with uow:
        return {uscc: row.name for uscc, row in uow.directory.enterprises(list(usccs)).items()}


def teams(uow) -> dict[str, list[dict]]:
    """Per USCC, the team now: certificate number, name, department, mobile, whether a specialist."""
    with uow:
        return uow.teams.of_campaign(uow.plan.code)


def department_contacts(uow) -> dict[str, tuple[str, str | None]]:
    """Per department code: its name and its contact's email."""
    with uow:
        return {code: (row.name, row.contact_email) for code, row in uow.directory.departments().items()}


def planned_visits(uow) -> list[tuple[str, object, int]]:
    """(USCC, planned day, group) of every assigned enterprise, in visiting order."""
    with uow:
        return uow.inspections.planned(uow.plan.code, (ASSIGNED,))


def next_notice_after(uow, after: datetime) -> datetime | None:
    """When the campaign's next notice falls after ``after``: what the next scheduled tick will find."""
    with uow:
        return uow.tasks.next_notice_after(uow.plan.code, after)


def backfill_due(uow, uscc: str) -> tuple[tuple[str, ...], datetime | None]:
    """An enterprise's items to back-fill, and when its back-fill is due."""
    with uow:
        inspection = inspection_of(uow, uscc, lock=False)
        return items_on_form(uow, inspection), uow.tasks.due_at(task_key("backfill", uow.plan.code,
                                                                          inspection_id=inspection.id))
