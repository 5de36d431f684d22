"""Appending to and reading the audit chains (``audit_events`` + ``audit_chains``).

Appending locks the chain's head row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite's write transactions are already serial, see ``database.make_engine``),
so two writers append one after the other and the chain cannot fork; the unique
(chain, seq) key is the backstop. A unit of work that changes a campaign takes
that head first of all (``lock_head``, the lock order in ``services/uow.py``).
Each appended row records ``clock()`` — read once the head is held, so the written
instants of a chain follow its order unless the machine's clock is set back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from typing import NamedTuple

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflow.audit import GENESIS, Anchor, ChainReport, Entry, SealedEntry, seal_all, verify_chain
from workflow.persistence.bulk import bulk_insert
from workflow.persistence.orm import AuditChainHead, AuditEvent, EventCursor

_heads = AuditChainHead.__table__
_events = AuditEvent.__table__
_cursors = EventCursor.__table__
_COLUMNS = ("chain", "seq", "occurred_at", "actor", "action", "campaign_code", "uscc", "from_state", "to_state",
            "payload", "prev_hash", "hash", "written_at")


class Head(NamedTuple):
    """A chain's last row: what ``ssj audit anchor`` publishes."""

    chain: str
    seq: int
    hash: str
    at: datetime | None  # the instant the last row's act claims
    written_at: datetime | None  # the machine's clock when it was written


class AuditLog:
    def __init__(self, conn: Connection, clock: Callable[[], datetime] | None = None):
        self.conn = conn
        self.clock = clock  # the machine's clock (aware); None: this log only reads

    def append(self, chain: str, entries: Iterable[Entry]) -> list[SealedEntry]:
        entries = list(entries)
        if not entries:
            return []
        if self.clock is None:
            raise RuntimeError("an audit log without a clock cannot append")
        last_seq, last_hash = self._lock_head(chain)
        written_at = self.clock()  # after the head is held: the chain's order
        if written_at.tzinfo is None:
            raise ValueError("the clock must give timezone-aware instants")
        sealed = seal_all(chain, last_seq, last_hash, entries, written_at)
        bulk_insert(self.conn, _events, _COLUMNS).run(s[:-1] for s in sealed)  # SealedEntry is the row, id last
        self.conn.execute(update(_heads).where(_heads.c.chain == chain)
                          .values(last_seq=sealed[-1].seq, last_hash=sealed[-1].hash))
        return sealed

    def lock_head(self, chain: str) -> None:
        """Hold the chain's head until the transaction ends (PostgreSQL; a chain without rows yet has none to hold)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(_heads.c.chain).where(_heads.c.chain == chain).with_for_update())

    def _lock_head(self, chain: str) -> tuple[int, str]:
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(dialect_insert(_heads).values(chain=chain, last_seq=0, last_hash=GENESIS)
                          .on_conflict_do_nothing(index_elements=["chain"]))
        row = self.conn.execute(select(_heads.c.last_seq, _heads.c.last_hash).where(_heads.c.chain == chain)
                                .with_for_update()).one()
        return row.last_seq, row.last_hash

    def head(self, chain: str) -> tuple[int, str] | None:
        """The chain's head as stored (last seq, its full hash); None for a chain never written."""
        row = self.conn.execute(select(_heads.c.last_seq, _heads.c.last_hash).where(_heads.c.chain == chain)).first()
        return (row.last_seq, row.last_hash) if row else None

    def entries(self, chain: str) -> Iterator[SealedEntry]:
        """A chain's rows in sequence order, streamed."""
        e = _events.c
        result = self.conn.execution_options(yield_per=5000).execute(
            select(e.id, e.chain, e.seq, e.occurred_at, e.actor, e.action, e.campaign_code, e.uscc, e.from_state,
                   e.to_state, e.payload, e.prev_hash, e.hash, e.written_at).where(e.chain == chain).order_by(e.seq)
        )
        for r in result:
            yield SealedEntry(r.chain, r.seq, r.occurred_at, r.actor, r.action, r.campaign_code, r.uscc,
                              r.from_state, r.to_state, r.payload, r.prev_hash, r.hash, r.written_at, r.id)

    def payloads(self, chain: str, actions: tuple[str, ...]) -> list[tuple[str, dict]]:
        """(action, payload) of the chain's rows of these actions, in sequence order."""
        e = _events.c
        return [(action, json.loads(payload)) for action, payload in self.conn.execute(
            select(e.action, e.payload).where(e.chain == chain, e.action.in_(actions)).order_by(e.seq))]

    def unannounced(self, chain: str) -> list:
        """The chain's rows since the last call (its cursor in ``event_cursors`` moves past them): each row once."""
        last = self.conn.execute(select(_cursors.c.last_seq).where(_cursors.c.chain == chain).with_for_update()).scalar()
        if last is None:
            self.conn.execute(_cursors.insert().values(chain=chain, last_seq=0))
            last = 0
        e = _events.c
        rows = self.conn.execute(select(e.seq, e.action, e.uscc, e.from_state, e.to_state, e.occurred_at, e.actor,
                                        e.payload).where(e.chain == chain, e.seq > last).order_by(e.seq)).all()
        if rows:
            self.conn.execute(update(_cursors).where(_cursors.c.chain == chain).values(last_seq=rows[-1].seq))
        return rows

    def verify(self, anchors: Iterable[Anchor] = ()) -> list[ChainReport]:
        """Every chain checked, those with rows and those with only a head alike, and every anchor against its
        chain (an anchored chain that is gone is reported as one with no rows)."""
        heads = {r.chain: (r.last_seq, r.last_hash) for r in self.conn.execute(select(_heads))}
        by_chain: dict[str, dict[int, set[str]]] = {}
        for a in anchors:
            by_chain.setdefault(a.chain, {}).setdefault(a.seq, set()).add(a.hash)
        chains = sorted(set(heads) | set(by_chain) | set(self.conn.execute(select(_events.c.chain).distinct())
                                                          .scalars()))
        return [verify_chain(chain, self.entries(chain), heads.get(chain), by_chain.get(chain)) for chain in chains]

    def heads(self, chains: Iterable[str] | None = None) -> list[Head]:
        """Every chain's head (or these chains'), with its last row's instants, in chain order; a chain with no
        row yet has none. Inside a changing transaction that holds the head, it stays as read."""
        e, h = _events.c, _heads.c
        query = (select(h.chain, h.last_seq, h.last_hash, e.occurred_at, e.written_at)
                 .outerjoin(_events, and_(e.chain == h.chain, e.seq == h.last_seq)).where(h.last_seq > 0)
                 .order_by(h.chain))
        if chains is not None:
            query = query.where(h.chain.in_(list(chains)))
        return [Head(*r) for r in self.conn.execute(query)]
