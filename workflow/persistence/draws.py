"""The ``draws`` table: each round of a draw (enterprises or officers), its commitments and its public run.

``snapshot`` holds exactly the text that was hashed, so a later directory update
never invalidates a past draw. A v2 round keeps ``parties`` (canonical JSON
``[{party, commitment, secret}]``, every secret null until the public draw) and
no ``secret_hex``/``commitment``; a v1 round the reverse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from workflow.audit import canonical_json
from workflow.errors import UserError
from workflow.persistence.orm import DrawRow

ENTERPRISES, OFFICERS = "enterprises", "officers"
_d = DrawRow.__table__


class RoundTaken(UserError):
    """Another process committed this round of the draw at the same moment: its commitment stands."""


@dataclass(frozen=True)
class DrawRecord:
    """A round as stored (the run fields are None until the public draw)."""

    id: int
    round: int
    algorithm: str
    redraw_reason: str | None
    secret_hex: str | None  # v1 only
    commitment: str | None  # v1 only
    snapshot: str
    snapshot_sha256: str
    eligible: int
    committed_at: datetime
    witness: str | None
    seed: str | None
    result: dict | None
    run_at: datetime | None
    parties: list[dict] | None = None  # v2 only: [{party, commitment, secret}] in the campaign file's order


def _record(row) -> DrawRecord:
    return DrawRecord(row.id, row.round, row.algorithm, row.redraw_reason, row.secret_hex, row.commitment,
                      row.snapshot, row.snapshot_sha256, row.eligible, row.committed_at, row.witness, row.seed,
                      json.loads(row.result) if row.result else None, row.run_at,
                      json.loads(row.parties) if row.parties else None)


class DrawRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def current(self, campaign_code: str, kind: str = ENTERPRISES) -> DrawRecord | None:
        """The latest round of the campaign's draw of ``kind``."""
        row = self.conn.execute(select(_d).where(_d.c.campaign_code == campaign_code, _d.c.kind == kind)
                                .order_by(_d.c.round.desc()).limit(1)).first()
        return _record(row) if row else None

    def rounds(self, campaign_code: str, kind: str = ENTERPRISES) -> list[DrawRecord]:
        return [_record(r) for r in self.conn.execute(select(_d).where(_d.c.campaign_code == campaign_code,
                                                                       _d.c.kind == kind).order_by(_d.c.round))]

    def redraws(self, campaign_code: str, kind: str = ENTERPRISES) -> list[tuple[int, str | None]]:
        """(round, reason) of every round after the first: what every report says of a re-drawn campaign, read
        without the rounds' results (a province's draw result holds 250,000 enterprises)."""
        return [tuple(r) for r in self.conn.execute(
            select(_d.c.round, _d.c.redraw_reason).where(_d.c.campaign_code == campaign_code, _d.c.kind == kind,
                                                         _d.c.round > 1).order_by(_d.c.round))]

    def was_run(self, campaign_code: str, kind: str) -> bool:
        """Whether the public draw of ``kind`` has been held for the campaign."""
        return self.conn.execute(select(_d.c.id).where(_d.c.campaign_code == campaign_code, _d.c.kind == kind,
                                                       _d.c.run_at.is_not(None))).first() is not None

    def commit(self, campaign_code: str, kind: str, *, round_: int, algorithm: str, secret_hex: str | None = None,
               commitment: str | None = None, parties: list[dict] | None = None, snapshot: str,
               snapshot_sha256: str, eligible: int, now: datetime, actor: str,
               redraw_reason: str | None = None) -> DrawRecord:
        """A new round: v1 with ``secret_hex`` and ``commitment``, v2 with ``parties`` (their secrets null)."""
        try:
            self.conn.execute(insert(_d).values(
                campaign_code=campaign_code, kind=kind, round=round_, algorithm=algorithm,
                redraw_reason=redraw_reason, secret_hex=secret_hex, commitment=commitment,
                parties=canonical_json(parties) if parties is not None else None, snapshot=snapshot,
                snapshot_sha256=snapshot_sha256, eligible=eligible, committed_at=now, committed_by=actor))
        except IntegrityError:  # the unique (campaign, kind, round): someone else committed it first
            raise RoundTaken(f"抽查任务“{campaign_code}”第 {round_} 轮抽取承诺已由另一操作同时提交，以先提交者为准") from None
        return self.current(campaign_code, kind)

    def record_run(self, record: DrawRecord, *, witness: str, seed: str, result: dict, now: datetime,
                   actor: str, parties: list[dict] | None = None) -> DrawRecord:
        """The public draw's outcome; a v2 round also gets its ``parties`` with the revealed secrets."""
        values = dict(witness=witness, seed=seed, result=canonical_json(result), run_at=now, run_by=actor)
        if parties is not None:
            values["parties"] = canonical_json(parties)
        self.conn.execute(update(_d).where(_d.c.id == record.id).values(**values))
        row = self.conn.execute(select(_d).where(_d.c.id == record.id)).one()
        return _record(row)
