"""Task rows: opened idempotently by key, closed when the work is done, found when due, their notices planned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select, update

from workflow.persistence.bulk import Bulk, among, bulk_insert, parts
from workflow.persistence.orm import InspectionRow, TaskRow
from workflow.tasks import DONE, NewTask

_t = TaskRow.__table__
_i = InspectionRow.__table__
_OPENED = ("key", "campaign_code", "inspection_id", "kind", "department_code", "certificate_no", "due_at",
           "provisional", "created_at", "escalation_level")


class TaskRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def open(self, tasks: Iterable[NewTask], now: datetime) -> int:
        """Open tasks not open yet (same key = same task); returns how many were new."""
        return bulk_insert(self.conn, _t, _OPENED[:-2], {"created_at": now, "escalation_level": 0},
                           on_conflict="ON CONFLICT (key) DO NOTHING").run(
            (t.key, t.campaign_code, t.inspection_id, t.kind, t.department, t.certificate_no, t.due.at,
             t.due.provisional) for t in tasks)

    def get(self, key: str):
        """The task with this key (id, due_at, done_at …), or None."""
        return self.conn.execute(select(_t).where(_t.c.key == key)).first()

    def open_kinds(self, campaign_code: str, department: str) -> set[str]:
        """The kinds of the department's own tasks (not an enterprise's) still open in the campaign."""
        return set(self.conn.execute(select(_t.c.kind).distinct().where(
            _t.c.campaign_code == campaign_code, _t.c.department_code == department, _t.c.inspection_id.is_(None),
            _t.c.done_at.is_(None))).scalars())

    def count(self, campaign_code: str, kind: str) -> int:
        """How many tasks of ``kind`` the campaign has opened (done or not)."""
        return self.conn.execute(select(func.count()).where(_t.c.campaign_code == campaign_code,
                                                            _t.c.kind == kind)).scalar()

    def due_at(self, key: str) -> datetime | None:
        return self.conn.execute(select(_t.c.due_at).where(_t.c.key == key)).scalar()

    def close(self, *, inspection_id: int, outcome: str, now: datetime, kind: str | None = None,
              department: str | None = None) -> int:
        """Close the open tasks of an inspection (of one kind / department when given)."""
        statement = update(_t).where(_t.c.inspection_id == inspection_id, _t.c.done_at.is_(None))
        if kind is not None:
            statement = statement.where(_t.c.kind == kind)
        if department is not None:
            statement = statement.where(_t.c.department_code == department)
        return self.conn.execute(statement.values(done_at=now, outcome=outcome)).rowcount

    def close_many(self, kind: str, done: list[tuple[int, datetime]], *, outcome: str) -> int:
        """Close one kind of open task for many inspections at once: (inspection id, when) each."""
        statement = Bulk(self.conn, "UPDATE tasks SET done_at = ?, outcome = ? WHERE inspection_id = ? AND kind = ? "
                                    "AND done_at IS NULL", _t, ("done_at", "outcome", "inspection_id", "kind"))
        return statement.run((at, outcome, inspection_id, kind) for inspection_id, at in done)

    def close_key(self, key: str, *, now: datetime, outcome: str = DONE) -> int:
        """Close one task by its key (a department's file arrived, an officer acknowledged or left every team)."""
        return self.conn.execute(update(_t).where(_t.c.key == key, _t.c.done_at.is_(None))
                                 .values(done_at=now, outcome=outcome)).rowcount

    def next_notice_after(self, campaign_code: str, after: datetime) -> datetime | None:
        """The campaign's next notice instant later than ``after`` (what the next scheduled tick will find)."""
        return self.conn.execute(select(func.min(_t.c.next_notice_at)).where(
            _t.c.campaign_code == campaign_code, _t.c.done_at.is_(None), _t.c.next_notice_at > after)).scalar()

    def due(self, now: datetime, campaign_code: str | None = None) -> list:
        """Open tasks whose due instant has come (now >= due), earliest first; served by ix_tasks_open_due."""
        query = select(_t).where(_t.c.done_at.is_(None), _t.c.due_at <= now).order_by(_t.c.due_at, _t.c.id)
        if campaign_code is not None:
            query = query.where(_t.c.campaign_code == campaign_code)
        return list(self.conn.execute(query))

    # --- the sweep ----------------------------------------------------------------

    @staticmethod
    def _notice_due(campaign_code: str, now: datetime, top: int):
        """Open tasks whose next notice has come, or not planned yet (a task at the ladder's top has nothing left)."""
        return (_t.c.campaign_code == campaign_code, _t.c.done_at.is_(None),
                or_(_t.c.next_notice_at <= now, and_(_t.c.next_notice_at.is_(None), _t.c.escalation_level < top)))

    def notice_due(self, campaign_code: str, *, now: datetime, top: int) -> list:
        """The whole due set in one query (served by ``ix_tasks_open_notice``)."""
        return self.conn.execute(select(_t).where(*self._notice_due(campaign_code, now, top)).order_by(_t.c.id)).all()

    def notice_due_ids(self, campaign_code: str, *, now: datetime, top: int) -> list[int]:
        """The ids of the whole due set, ascending: read once per sweep (one index read and one sort), then claimed
        by ``claim_notice_due`` a batch at a time by primary key, so no batch reads or sorts the due set again."""
        return list(self.conn.execute(select(_t.c.id).where(*self._notice_due(campaign_code, now, top))
                                      .order_by(_t.c.id)).scalars())

    def claim_notice_due(self, campaign_code: str, ids: Sequence[int], *, now: datetime, top: int) -> list:
        """Those of tasks ``ids`` still due, locked for this transaction, in id order; rows another worker holds
        are skipped (``FOR UPDATE SKIP LOCKED``), rows it has handled since are no longer due."""
        if not ids:
            return []
        return self.conn.execute(select(_t).where(among(self.conn, _t.c.id, ids),
                                                  *self._notice_due(campaign_code, now, top))
                                 .order_by(_t.c.id).with_for_update(skip_locked=True)).all()

    def open_due(self, ids: Sequence[int]) -> dict[int, datetime]:
        """The open ones among tasks ``ids``: their due instants (a digest lists only what is still to do)."""
        found = {}
        for part in parts(self.conn, ids):
            found.update(self.conn.execute(select(_t.c.id, _t.c.due_at).where(
                among(self.conn, _t.c.id, part), _t.c.done_at.is_(None))).all())
        return found

    def plan_notices(self, planned: Sequence[tuple[datetime | None, int, int]]) -> int:
        """(next notice, task id, level read): the next notice's instant, where the level is still the one read."""
        return Bulk(self.conn, "UPDATE tasks SET next_notice_at = ? WHERE id = ? AND escalation_level = ?",
                    _t, ("next_notice_at", "id", "escalation_level")).run(planned)

    def raise_levels(self, moved: Sequence[tuple[int, datetime | None, int, int]]) -> int:
        """(new level, next notice, task id, level read): compare-and-set, so two sweeps cannot both send."""
        return Bulk(self.conn, "UPDATE tasks SET escalation_level = ?, next_notice_at = ? WHERE id = ? "
                               "AND escalation_level = ?", _t,
                    ("escalation_level", "next_notice_at", "id", "escalation_level")).run(moved)

    # --- calendar changes -----------------------------------------------------------

    def open_with_visits(self, campaign_code: str) -> list:
        """Every open task of the campaign, with its inspection's visit date (the event back-fill runs from) and
        enterprise."""
        return self.conn.execute(select(_t, _i.c.visit_date, _i.c.uscc).outerjoin(
            _i, _i.c.id == _t.c.inspection_id).where(_t.c.campaign_code == campaign_code, _t.c.done_at.is_(None))).all()

    def reschedule(self, task_id: int, *, due_at: datetime, provisional: bool, no_earlier: bool) -> None:
        """A new due instant; its notices are planned again by the next sweep."""
        self.conn.execute(update(_t).where(_t.c.id == task_id).values(
            due_at=due_at, provisional=provisional, next_notice_at=None, no_earlier=no_earlier))
