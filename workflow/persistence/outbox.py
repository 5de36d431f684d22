"""The outbox table: one INSERT for every cause that queues mail, and the sender's claim and marks.

Queuing is idempotent by key (``ON CONFLICT (key) DO NOTHING``); the Message-ID is
derived from the key. The files a message carries are stored with it (``outbox_attachments``).
A sender claims 待发 rows under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), a
share per campaign, so no campaign's backlog holds another's mail back; rows a crashed
sender held come back once the lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from workflow.audit import canonical_json
from workflow.files.email import message_id
from workflow.mail import NOT_NEEDED, SENT, UNBUILDABLE, WAITING, Mail
from workflow.persistence.bulk import bulk_insert
from workflow.persistence.orm import (Campaign, Department, Officer, OutboxAttachment, OutboxMessage, PendingNotice,
                                      TaskRow)

_o = OutboxMessage.__table__
_a = OutboxAttachment.__table__
LEASE = timedelta(minutes=10)
_QUEUED = ("key", "message_id", "task_id", "kind", "recipient", "cc", "template", "context", "campaign_code",
           "created_at", "not_before", "attempts")
_FILED = ("message_key", "position", "filename", "content")
Files = Mapping[str, list[tuple[str, bytes | None]]]  # per message key: (file name, content or None if missing)


class OutboxRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def queue(self, campaign_code: str, sender: str, mails: Iterable[Mail], now: datetime,
              files: Files | None = None, *, not_before: datetime | None = None, secret: str) -> int:
        """Queue every mail not queued yet (same key: queued once), with its files, to go from ``not_before`` (the
        office's next opening; default now); returns how many are new.

        A message of the same key that could not be made (无法生成) takes the new context and files: its cause
        ran again, perhaps on corrected data, and the sender tries it once its inputs differ."""
        mails = list(mails)
        rows = ((m.key, message_id(m.key, sender, secret), m.task_id, m.kind, m.recipient, "; ".join(m.cc) or None, m.template,
                 canonical_json(m.context)) for m in mails)
        constants = dict(zip(_QUEUED[-4:], (campaign_code, now, not_before or now, 0)))
        new = bulk_insert(self.conn, _o, _QUEUED[:-4], constants, on_conflict="ON CONFLICT (key) DO NOTHING").run(rows)
        keys = [m.key for m in mails]
        stuck = {k for i in range(0, len(keys), 500) for k in self.conn.execute(
            select(_o.c.key).where(_o.c.key.in_(keys[i:i + 500]), _o.c.state == UNBUILDABLE)).scalars()}
        for m in mails:
            if m.key in stuck:
                self.conn.execute(update(_o).where(_o.c.key == m.key).values(context=canonical_json(m.context),
                                                                             template=m.template))
                self.conn.execute(delete(_a).where(_a.c.message_key == m.key))
        filed = [(key, i, name, content)
                 for key, items in (files or {}).items() for i, (name, content) in enumerate(items)]
        if filed:
            bulk_insert(self.conn, _a, _FILED, on_conflict="ON CONFLICT (message_key, position) DO NOTHING").run(filed)
        return new

    def attachments(self, keys: list[str]) -> dict[str, list[tuple[str, bytes | None]]]:
        """Per message key, its stored files in order (keys without files are absent)."""
        found: dict[str, list[tuple[str, bytes | None]]] = {}
        for r in self.conn.execute(select(_a.c.message_key, _a.c.filename, _a.c.content)
                                   .where(_a.c.message_key.in_(keys)).order_by(_a.c.message_key, _a.c.position)):
            found.setdefault(r.message_key, []).append((r.filename, r.content))
        return found

    def claim(self, *, now: datetime, worker: str, limit: int, after: dict[str, int | None] | None = None) -> list:
        """Up to ``limit`` sendable rows, leased to ``worker`` (expired leases of crashed senders included), shared
        evenly among the campaigns that have mail due.

        ``after``: the run's place in each campaign (the last id it claimed; None: nothing more is due there), kept
        by the caller from one claim to the next, so each claim reads on from where the last one stopped along
        ``ix_outbox_campaign_unsent`` instead of walking past the rows it already holds."""
        after = {} if after is None else after
        due = and_(_o.c.state == WAITING, _o.c.not_before <= now, or_(_o.c.claimed_at.is_(None),
                                                                      _o.c.claimed_at < now - LEASE))
        campaigns = [code for code in self._unsent_campaigns() if after.get(code, 0) is not None]
        ids: list[int] = []
        for code in campaigns:
            share = max(1, limit // len(campaigns))
            ready = select(_o.c.id).where(_o.c.campaign_code == code, _o.c.sent_at.is_(None),
                                          _o.c.id > after.get(code, 0), due).order_by(_o.c.id).limit(share)
            if self.conn.dialect.name == "postgresql":
                ready = ready.with_for_update(skip_locked=True)
            found = list(self.conn.execute(ready).scalars())
            after[code] = found[-1] if len(found) == share else None  # fewer than asked: nothing more is due
            ids += found
        if not ids:
            return []
        rows = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            self.conn.execute(update(_o).where(_o.c.id.in_(chunk)).values(claimed_at=now, claimed_by=worker))
            rows += self.conn.execute(select(_o).where(_o.c.id.in_(chunk))).all()
        return sorted(rows, key=lambda r: r.id)

    def _unsent_campaigns(self) -> list[str]:
        """The campaigns with an unsent row, each found by one probe of ``ix_outbox_campaign_unsent`` (never a
        count or a DISTINCT over the unsent rows themselves)."""
        c = Campaign.__table__.c
        unsent = select(_o.c.id).where(_o.c.campaign_code == c.code, _o.c.sent_at.is_(None)).exists()
        return list(self.conn.execute(select(c.code).where(unsent).order_by(c.code)).scalars())

    def mark_sent(self, row, now: datetime) -> None:
        self.conn.execute(update(_o).where(and_(_o.c.id == row.id, _o.c.sent_at.is_(None)))
                          .values(sent_at=now, attempts=row.attempts + 1, state=SENT))

    def release(self, rows) -> None:
        """Hand claimed rows back untried (the run's time is up): the next run takes them at once."""
        ids = [r.id for r in rows]
        for i in range(0, len(ids), 500):
            self.conn.execute(update(_o).where(_o.c.id.in_(ids[i:i + 500]), _o.c.sent_at.is_(None))
                              .values(claimed_at=None, claimed_by=None))

    def back_off(self, rows, now: datetime, error: str, wait, **counted: int) -> None:
        """Release ``rows`` to be tried again after ``wait(attempts)``, with the error kept (``counted``: the
        row's ``rejections`` / ``unclear`` as they now stand)."""
        for row in rows:
            attempts = row.attempts + 1
            self.conn.execute(update(_o).where(_o.c.id == row.id).values(
                attempts=attempts, last_error=error, claimed_at=None, claimed_by=None, not_before=now + wait(attempts),
                **counted))

    def finished_digests(self, keys: list[str]) -> set[str]:
        """The digests among ``keys`` every task of which is done (or cancelled) by now."""
        if not keys:
            return set()
        p, t = PendingNotice.__table__.c, TaskRow.__table__.c
        rows = self.conn.execute(select(p.digest_key, func.count().filter(t.done_at.is_(None)))
                                 .select_from(PendingNotice.__table__.join(TaskRow.__table__, t.id == p.task_id))
                                 .where(p.digest_key.in_(keys)).group_by(p.digest_key)).all()
        return {key for key, still_open in rows if still_open == 0}

    def not_needed(self, row, reason: str) -> None:
        """A notice nobody needs any more leaves the queue unsent, with the reason."""
        self.conn.execute(update(_o).where(and_(_o.c.id == row.id, _o.c.state == WAITING)).values(
            state=NOT_NEEDED, claimed_at=None, claimed_by=None, last_error=reason))

    def defer(self, row, until: datetime) -> None:
        """Release a claimed row untried, to go at ``until`` (the office's next opening)."""
        self.conn.execute(update(_o).where(_o.c.id == row.id).values(claimed_at=None, claimed_by=None,
                                                                     not_before=until))

    def settle(self, row, state: str, error: str, *, inputs_sha256: str | None = None, **counted: int) -> None:
        """The message leaves the queue in ``state`` (退信, 无法生成, 投递不明) with its reason; only the office,
        or for 无法生成 a change of its inputs, brings it back."""
        self.conn.execute(update(_o).where(_o.c.id == row.id).values(
            state=state, last_error=error, claimed_at=None, claimed_by=None, attempts=row.attempts + 1,
            inputs_sha256=inputs_sha256, **counted))

    def in_state(self, state: str, *, campaign_code: str | None = None, limit: int = 1000, after_id: int = 0) -> list:
        """Rows in ``state`` by id, ``limit`` at a time (the next page: ``after_id`` = the last id read)."""
        query = select(_o).where(_o.c.state == state, _o.c.id > after_id).order_by(_o.c.id).limit(limit)
        if campaign_code is not None:
            query = query.where(_o.c.campaign_code == campaign_code)
        return self.conn.execute(query).all()

    def revive(self, row, now: datetime) -> None:
        """A 无法生成 message whose inputs changed goes back to 待发 (once: the state is compared and set)."""
        self.conn.execute(update(_o).where(and_(_o.c.id == row.id, _o.c.state == UNBUILDABLE))
                          .values(state=WAITING, not_before=now, inputs_sha256=None))

    def state_counts(self, campaign_code: str, states: Iterable[str]) -> dict[str, int]:
        return dict(self.conn.execute(select(_o.c.state, func.count()).where(
            _o.c.state.in_(list(states)), _o.c.campaign_code == campaign_code).group_by(_o.c.state)).all())

    def health(self, campaign_code: str, day_start: datetime) -> dict:
        """The campaign's outbox at a glance: waiting (due or in backoff), sent since ``day_start``, and what failed
        and still waits (``failing``: 待发 after at least one attempt; ``failing_since``: the oldest of them was
        queued then — a message is tried in the tick that queues it, so that is about when it first failed).

        Each count reads only the rows it counts, by index (the waiting by ``ix_outbox_state_campaign``, today's
        by ``ix_outbox_campaign_sent``): a tick stays cheap however many messages a campaign sent before."""
        c = _o.c
        failing = c.attempts > 0
        waiting = and_(c.state == WAITING, c.campaign_code == campaign_code)
        row = self.conn.execute(select(func.count(), func.count().filter(failing),
                                       func.min(c.created_at).filter(failing)).where(waiting)).one()
        sent_today = self.conn.execute(select(func.count()).where(
            c.campaign_code == campaign_code, c.sent_at.is_not(None), c.sent_at >= day_start)).scalar()
        last_error = self.conn.execute(select(c.last_error).where(waiting, failing).order_by(c.id.desc())
                                       .limit(1)).scalar() if row[1] else None
        return {"waiting": row[0], "sent_today": sent_today, "failing": row[1], "failing_since": row[2],
                "last_error": last_error}

    def departments_of(self, task_ids: Iterable[int], recipients: Iterable[str]) -> tuple[dict[int, str], dict[str, str]]:
        """Which department a message concerns: per task, its department (an officer's task: the officer's);
        per recipient address, the department whose admin, leader, contact or officer it is."""
        tasks: dict[int, str] = {}
        ids = sorted(set(task_ids))
        t, o, d = TaskRow.__table__.c, Officer.__table__.c, Department.__table__.c
        for i in range(0, len(ids), 500):
            for r in self.conn.execute(select(t.id, func.coalesce(t.department_code, o.department_code))
                                       .select_from(TaskRow.__table__.outerjoin(Officer.__table__,
                                                                             o.certificate_no == t.certificate_no))
                                       .where(t.id.in_(ids[i:i + 500]))):
                if r[1]:
                    tasks[r[0]] = r[1]
        people: dict[str, str] = {}
        wanted = sorted(set(recipients))
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            for column in (d.contact_email, d.admin_email, d.leader_email):
                for email, code in self.conn.execute(select(column, d.code).where(column.in_(chunk))):
                    people.setdefault(email, code)
            for email, code in self.conn.execute(select(o.email, o.department_code).where(o.email.in_(chunk))):
                people.setdefault(email, code)
        return tasks, people
