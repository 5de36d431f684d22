"""Task rows: opened idempotently by key, closed when the work is done, found when due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from workflow.persistence.bulk import Bulk
from workflow.persistence.orm import TaskRow
from workflow.tasks import NewTask

_t = TaskRow.__table__


class TaskRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def open(self, tasks: Iterable[NewTask], now: datetime) -> int:
        """Open tasks not open yet (same key = same task); returns how many were new."""
        columns = ("key", "campaign_code", "inspection_id", "kind", "department_code", "certificate_no", "due_at",
                   "provisional")
        constants = {"created_at": now, "escalation_level": 0}
        names = (*columns, *constants)
        sql = (f"INSERT INTO tasks ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
               "ON CONFLICT (key) DO NOTHING")
        return Bulk(self.conn, sql, _t, names, tuple(constants.values())).run(
            (t.key, t.campaign_code, t.inspection_id, t.kind, t.department, t.certificate_no, t.due.at,
             t.due.provisional) for t in tasks)

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

    def close_department(self, key: str, *, now: datetime) -> int:
        """Close one task by its key (a department's file arrived)."""
        return self.conn.execute(update(_t).where(_t.c.key == key, _t.c.done_at.is_(None))
                                 .values(done_at=now, outcome="done")).rowcount

    def due_at(self, key: str) -> datetime | None:
        return self.conn.execute(select(_t.c.due_at).where(_t.c.key == key)).scalar()

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
