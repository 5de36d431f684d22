"""The office mailbox's rows: messages handled (by Message-ID), passes, and our own messages a reply refers to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select

from workflow.audit import canonical_json
from workflow.persistence.orm import InboundMessage, MailboxPass, OutboxMessage, PendingNotice, TaskRow

# The tasks a reply of each kind does (``workflow.replies``'s kinds).
ANSWERED_TASKS = {"confirm_list": ("confirm",), "confirmation_report": ("confirmation_report", "summary"),
                  "summary": ("confirmation_report", "summary"), "forms": ("acknowledge", "backfill"),
                  "acknowledge": ("acknowledge", "backfill")}
_m = InboundMessage.__table__
_p = MailboxPass.__table__
_o = OutboxMessage.__table__
_n = PendingNotice.__table__
_t = TaskRow.__table__


class MailboxRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def handled(self, message_id: str):
        """The row of a message handled before (a duplicate delivery, or one a killed pass did not move), or None."""
        return self.conn.execute(select(_m).where(_m.c.message_id == message_id)).first()

    def add(self, *, message_id: str, now: datetime, sender: str, subject: str, campaign_code: str | None,
            kind: str | None, party: str | None, outcome: str, folder: str, detail: str, files: list[dict],
            reply_key: str | None) -> None:
        self.conn.execute(insert(_m).values(
            message_id=message_id, handled_at=now, sender=sender[:254], subject=subject, campaign_code=campaign_code,
            kind=kind, party=party, outcome=outcome, folder=folder, detail=detail, files=canonical_json(files),
            reply_key=reply_key))

    def forget(self, message_id: str) -> None:
        """A message that waited for a person is read again (the office put it back): its row gives way."""
        self.conn.execute(delete(_m).where(_m.c.message_id == message_id))

    def messages(self, campaign_code: str | None = None, *, outcome: str | None = None) -> list:
        """Messages handled, oldest first: of one campaign (None: every message), of one outcome."""
        query = select(_m).order_by(_m.c.id)
        if campaign_code is not None:
            query = query.where(_m.c.campaign_code == campaign_code)
        if outcome is not None:
            query = query.where(_m.c.outcome == outcome)
        return list(self.conn.execute(query))

    def counts(self, campaign_code: str) -> dict[str, int]:
        """Per outcome, the messages of the campaign; unattributed messages for the office count as ``None``'s."""
        rows = self.conn.execute(select(_m.c.campaign_code, _m.c.outcome, func.count())
                                 .where((_m.c.campaign_code == campaign_code) | _m.c.campaign_code.is_(None))
                                 .group_by(_m.c.campaign_code, _m.c.outcome))
        counts: dict[str, int] = {}
        for code, outcome, n in rows:
            key = outcome if code is not None else f"{outcome}（未归属任务）"
            counts[key] = counts.get(key, 0) + n
        return counts

    def add_pass(self, *, now: datetime, source: str, scope: Iterable[str], read: int, recorded: int, refused: int,
                 manual: int, error: str | None) -> None:
        self.conn.execute(insert(_p).values(started_at=now, source=source[:300], scope="; ".join(scope), read=read,
                                            recorded=recorded, refused=refused, manual=manual, error=error))

    def last_pass(self):
        return self.conn.execute(select(_p).order_by(_p.c.id.desc()).limit(1)).first()

    def ours(self, message_ids: Iterable[str]) -> list:
        """Our outbox messages among ``message_ids``, in the order given (a reply names the newest first)."""
        ids = list(dict.fromkeys(message_ids))[:50]
        if not ids:
            return []
        found = {r.message_id: r for r in self.conn.execute(
            select(_o.c.key, _o.c.message_id, _o.c.campaign_code, _o.c.kind, _o.c.template, _o.c.recipient, _o.c.cc,
                   _o.c.task_id).where(_o.c.message_id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    def task_kinds(self, outbox_key: str, task_id: int | None) -> set[str]:
        """The kinds of the tasks a message of ours is about: its task's, or those its digest lists, or — for our
        answer to a reply — the reply's (a corrected file sent in answer to 【未登记】 is the same work)."""
        answered = self.conn.execute(select(_m.c.kind).where(_m.c.reply_key == outbox_key)).scalar()
        if answered:
            return set(ANSWERED_TASKS.get(answered, ()))
        kinds = set(self.conn.execute(select(_t.c.kind).join(_n, _n.c.task_id == _t.c.id)
                                      .where(_n.c.digest_key == outbox_key)).scalars())
        if task_id is not None:
            kinds |= set(self.conn.execute(select(_t.c.kind).where(_t.c.id == task_id)).scalars())
        return kinds
