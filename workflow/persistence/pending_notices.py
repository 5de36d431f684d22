"""The notices the sweep decided, held until the run's end puts them into one digest per recipient and stage."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select, update

from workflow.audit import canonical_json
from workflow.persistence.bulk import among, bulk_insert, parts
from workflow.persistence.orm import PendingNotice

_p = PendingNotice.__table__
# The digest key of a held notice no digest will carry: its task was done, or its deadline moved, before the
# digest was made (a run that died in between). Never an outbox key.
DROPPED = "（未发送：已办结或期限已变）"
_HELD = ("task_id", "level", "stage", "step", "recipient", "cc", "item", "campaign_code", "decided_at")


class PendingNotices:
    def __init__(self, conn: Connection):
        self.conn = conn

    def hold(self, campaign_code: str, now: datetime,
             rows: Iterable[tuple[int, int, str, str, str, tuple[str, ...], dict]]) -> int:
        """(task id, level, stage, step, recipient, cc, item) each once (a re-run holds nothing twice)."""
        return bulk_insert(self.conn, _p, _HELD[:-2], {"campaign_code": campaign_code, "decided_at": now},
                           on_conflict="ON CONFLICT (task_id, level, recipient) DO NOTHING").run(
            (task_id, level, stage, step, recipient, "; ".join(cc) or None, canonical_json(item))
            for task_id, level, stage, step, recipient, cc, item in rows)

    def undigested_groups(self, campaign_code: str) -> list[tuple[str, str]]:
        """The (recipient, stage) of every digest still to make, in order (a wave's digest reads one at a time)."""
        c = _p.c
        return sorted(tuple(r) for r in self.conn.execute(  # in Python's order: the same on every engine
            select(c.recipient, c.stage).where(c.campaign_code == campaign_code, c.digest_key.is_(None))
            .group_by(c.recipient, c.stage)))

    def undigested(self, campaign_code: str, recipient: str | None = None, stage: str | None = None) -> list:
        """Every held notice not in a digest yet (``recipient`` and ``stage``: of that digest), in the order
        decided; ``item`` read back from JSON."""
        c = _p.c
        query = select(c.id, c.task_id, c.level, c.stage, c.step, c.recipient, c.cc, c.item).where(
            c.campaign_code == campaign_code, c.digest_key.is_(None))
        if recipient is not None:
            query = query.where(c.recipient == recipient, c.stage == stage)
        return [{"id": i, "task_id": task, "level": level, "stage": stage, "step": step, "recipient": recipient,
                 "cc": tuple(cc.split("; ")) if cc else (), "item": json.loads(item)}
                for i, task, level, stage, step, recipient, cc, item in self.conn.execute(query.order_by(c.id))]

    def digested(self, ids: list[int], key: str) -> None:
        """The held notices ``ids`` take the digest's key: on PostgreSQL in one statement with the ids as one array
        (a wave's digest lists tens of thousands), elsewhere in ``IN`` lists (``bulk.parts``)."""
        for part in parts(self.conn, ids):
            self.conn.execute(update(_p).where(among(self.conn, _p.c.id, part), _p.c.digest_key.is_(None))
                              .values(digest_key=key))
