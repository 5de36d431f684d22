"""``campaigns``: a campaign as its file defined it, kept parsed (``plan``, JSON) beside the file's text.

The stored plan is what every command and tick reads: the file is parsed and
validated once, at ``ssj campaign create``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from workflow.campaign_plan import CampaignPlan
from workflow.completion import FINISHED, CompletionFacts
from workflow.inspection import STATES
from workflow.mail import WAITING
from workflow.persistence.orm import AuditEvent, Campaign, CampaignDepartment, CampaignItem, InspectionRow, TaskRow
from workflow.persistence.orm_outbox import OutboxMessage

_c = Campaign.__table__


class CampaignRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def plan(self, code: str) -> CampaignPlan | None:
        """The stored plan, with the calendar its deadlines were last computed with; None when there is no such campaign."""
        row = self.conn.execute(select(_c.c.plan, _c.c.calendar_files).where(_c.c.code == code)).first()
        if row is None:
            return None
        return dataclasses.replace(CampaignPlan.from_json(row.plan), calendar_snapshot=row.calendar_files)

    def row(self, code: str):
        return self.conn.execute(select(_c).where(_c.c.code == code)).first()

    def codes(self) -> list[str]:
        return list(self.conn.execute(select(_c.c.code).order_by(_c.c.code)).scalars())

    def add(self, plan: CampaignPlan, *, source: str, source_sha256: str, now: datetime, actor: str,
            calendar_sha256: str, calendar_files: str | None) -> None:
        self.conn.execute(insert(_c).values(
            code=plan.code, name=plan.name, document_no=plan.document_no, office=plan.office,
            lead_department_code=plan.lead_department, timezone=plan.timezone, window_from=plan.window_from,
            window_to=plan.window_to, draw_at=plan.draw_at, plan=plan.to_json(), source_toml=source,
            source_sha256=source_sha256, created_at=now, created_by=actor, calendar_sha256=calendar_sha256,
            calendar_files=calendar_files))
        self.conn.execute(insert(CampaignDepartment.__table__), [
            {"campaign_code": plan.code, "department_code": d.code, "is_lead": d.code == plan.lead_department}
            for d in plan.departments])
        self.conn.execute(insert(CampaignItem.__table__), [
            {"campaign_code": plan.code, "item_code": item, "department_code": d.code}
            for d in plan.departments for item in d.items])

    def calendar_sha256(self, code: str) -> str | None:
        return self.conn.execute(select(_c.c.calendar_sha256).where(_c.c.code == code)).scalar()

    def adopt_calendar(self, code: str, *, sha256: str, files: str | None) -> None:
        """The override files the deadlines are now computed with (kept in force if a file breaks later)."""
        self.conn.execute(update(_c).where(_c.c.code == code).values(calendar_sha256=sha256, calendar_files=files))

    def state_counts(self, code: str) -> dict[str, int]:
        """How many of the campaign's inspections are in each state (every state listed)."""
        i = InspectionRow
        counts = dict(self.conn.execute(select(i.state, func.count()).where(i.campaign_code == code)
                                        .group_by(i.state)).all())
        return {state: counts.get(state, 0) for state in STATES}

    def completion_facts(self, code: str) -> CompletionFacts:
        """What the finished rule reads (``workflow.completion``): states, open tasks, mail still to send."""
        open_tasks = self.conn.execute(select(func.count()).select_from(TaskRow).where(
            TaskRow.campaign_code == code, TaskRow.done_at.is_(None))).scalar_one()
        waiting = self.conn.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.campaign_code == code, OutboxMessage.state == WAITING,
            OutboxMessage.sent_at.is_(None))).scalar_one()
        return CompletionFacts(self.state_counts(code), open_tasks, waiting)

    def finished_codes(self) -> set[str]:
        """The campaigns whose chain says they finished (the row is written once, by the serving loop)."""
        e = AuditEvent
        return set(self.conn.execute(select(e.campaign_code).where(e.action == FINISHED).distinct()).scalars())
