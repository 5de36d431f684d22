"""The outbox table: one INSERT for every cause that queues mail, and the sender's claim and marks.

Queuing is idempotent by key (``ON CONFLICT (key) DO NOTHING``); the Message-ID is
derived from the key. A sender claims rows under a lease (``FOR UPDATE SKIP LOCKED``
on PostgreSQL): rows a crashed sender held come back once the lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, select, update

from workflow.audit import canonical_json
from workflow.files.email import message_id
from workflow.mail import Mail
from workflow.persistence.bulk import Bulk
from workflow.persistence.orm import OutboxMessage

_o = OutboxMessage.__table__
LEASE = timedelta(minutes=10)
_QUEUED = ("key", "message_id", "task_id", "kind", "recipient", "template", "context", "campaign_code", "created_at",
           "not_before", "attempts")


class OutboxRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def queue(self, campaign_code: str, sender: str, mails: Iterable[Mail], now: datetime) -> int:
        """Queue every mail not queued yet (same key: queued once); returns how many are new."""
        sql = (f"INSERT INTO outbox ({', '.join(_QUEUED)}) VALUES ({', '.join('?' * len(_QUEUED))}) "
               "ON CONFLICT (key) DO NOTHING")
        rows = ((m.key, message_id(m.key, sender), m.task_id, m.kind, m.recipient, m.template, canonical_json(m.context))
                for m in mails)
        return Bulk(self.conn, sql, _o, _QUEUED, (campaign_code, now, now, 0)).run(rows)

    def claim(self, *, now: datetime, worker: str, limit: int) -> list:
        """Up to ``limit`` sendable rows, leased to ``worker`` (expired leases of crashed senders included)."""
        ready = select(_o.c.id).where(_o.c.sent_at.is_(None), _o.c.not_before <= now,
                                      or_(_o.c.claimed_at.is_(None), _o.c.claimed_at < now - LEASE)) \
            .order_by(_o.c.id).limit(limit)
        if self.conn.dialect.name == "postgresql":
            ready = ready.with_for_update(skip_locked=True)
        ids = list(self.conn.execute(ready).scalars())
        if not ids:
            return []
        self.conn.execute(update(_o).where(_o.c.id.in_(ids)).values(claimed_at=now, claimed_by=worker))
        return self.conn.execute(select(_o).where(_o.c.id.in_(ids)).order_by(_o.c.id)).all()

    def mark_sent(self, row, now: datetime) -> None:
        self.conn.execute(update(_o).where(and_(_o.c.id == row.id, _o.c.sent_at.is_(None)))
                          .values(sent_at=now, attempts=row.attempts + 1))

    def back_off(self, rows, now: datetime, error: str, wait) -> None:
        """Release ``rows`` to be tried again after ``wait(attempts)``, with the error kept."""
        for row in rows:
            attempts = row.attempts + 1
            self.conn.execute(update(_o).where(_o.c.id == row.id).values(
                attempts=attempts, last_error=error, claimed_at=None, claimed_by=None, not_before=now + wait(attempts)))
