"""``team_members``: who inspects each enterprise — the drawn officers, their substitutes, specialist helpers.

A replaced officer's row stays, marked released with the reason; "the team" is the
rows not released. Each row keeps why the officer was eligible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from workflow.inspection import WITHDRAWN
from workflow.persistence.bulk import among, parts
from workflow.persistence.counts import CountKeeper, Unkept
from workflow.persistence.orm import InspectionRow, Officer, TeamMemberRow

_team = TeamMemberRow.__table__
t, i, o = TeamMemberRow, InspectionRow, Officer


class TeamRepository:
    def __init__(self, conn: Connection, counts: CountKeeper | Unkept | None = None):
        self.conn = conn
        self.counts = counts or Unkept(conn)  # the campaign's counts include its officers

    def add(self, members: Sequence[dict], now: datetime) -> None:
        """Rows of (inspection_id, certificate_no, department_code, specialist, eligibility[, substitute_for])."""
        if members:
            self.counts.touch(m["inspection_id"] for m in members)
            self.conn.execute(insert(_team), [{"specialist": False, "substitute_for": None, **m, "matched_at": now}
                                              for m in members])

    def release(self, inspection_id: int, certificate_no: str, *, now: datetime, reason: str) -> None:
        self.counts.touch([inspection_id])
        self.conn.execute(update(_team).where(_team.c.inspection_id == inspection_id,
                                              _team.c.certificate_no == certificate_no)
                          .values(released_at=now, release_reason=reason))

    def active(self, inspection_id: int) -> dict[str, str]:
        """The team now: certificate number → department."""
        return dict(self.conn.execute(select(t.certificate_no, t.department_code).where(
            t.inspection_id == inspection_id, t.released_at.is_(None))).all())

    def ever(self, inspection_id: int) -> set[str]:
        """Everyone who was ever on the team, released or not."""
        return set(self.conn.execute(select(t.certificate_no).where(t.inspection_id == inspection_id)).scalars())

    def emails(self, inspection_id: int) -> dict[str, str | None]:
        """The team now: certificate number → the officer's email (either identifies him)."""
        return dict(self.conn.execute(select(t.certificate_no, o.email).join(o, o.certificate_no == t.certificate_no)
                                      .where(t.inspection_id == inspection_id, t.released_at.is_(None))).all())

    def of_campaign(self, campaign_code: str) -> dict[str, list[dict]]:
        """Per USCC, the team now (name, mobile, department, specialist, why eligible), for forms and reports."""
        out: dict[str, list[dict]] = {}
        for row in self.conn.execute(select(i.uscc, t.certificate_no, t.department_code, t.specialist, t.eligibility,
                                            o.name, o.mobile).join(i, i.id == t.inspection_id)
                                     .join(o, o.certificate_no == t.certificate_no)
                                     .where(i.campaign_code == campaign_code, t.released_at.is_(None))
                                     .order_by(i.uscc, t.department_code, t.certificate_no)):
            out.setdefault(row.uscc, []).append(dict(row._mapping))
        return out

    def counted(self, *, campaign_code: str | None = None, inspection_ids: Sequence[int] | None = None
                ) -> dict[int, list[tuple[str, str]]]:
        """Per inspection, the counted members now (no specialists): (certificate number, department)."""
        query = select(t.inspection_id, t.certificate_no, t.department_code).where(
            t.released_at.is_(None), t.specialist.is_(False))
        if inspection_ids is None:
            queries = [query.join(i, i.id == t.inspection_id).where(i.campaign_code == campaign_code)]
        else:
            queries = [query.where(among(self.conn, t.inspection_id, ids))
                       for ids in parts(self.conn, list(inspection_ids))]
        out: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for one in queries:
            for iid, cert, dept in self.conn.execute(one):
                out[iid].append((cert, dept))
        return out

    def loads(self, campaign_code: str, *, live: bool = False) -> dict[str, int]:
        """Per officer, how many of the campaign's teams he is on now (``live``: of enterprises not withdrawn)."""
        query = select(t.certificate_no, func.count()).join(i, i.id == t.inspection_id).where(
            i.campaign_code == campaign_code, t.released_at.is_(None))
        if live:
            query = query.where(i.state != WITHDRAWN)
        return dict(self.conn.execute(query.group_by(t.certificate_no)).all())

    def drawn(self, campaign_code: str) -> dict[str, set[tuple[str, str]]]:
        """Per USCC, the members the public draw put there (no substitutes, no specialists): what verify compares."""
        drawn: dict[str, set[tuple[str, str]]] = {}
        for uscc, cert, dept in self.conn.execute(select(i.uscc, t.certificate_no, t.department_code)
                                                  .join(i, i.id == t.inspection_id)
                                                  .where(i.campaign_code == campaign_code, t.substitute_for.is_(None),
                                                         t.specialist.is_(False))):
            drawn.setdefault(uscc, set()).add((cert, dept))
        return drawn

    def recent_pairs(self, *, since: datetime, other_than: str) -> list[tuple[str, str]]:
        """(officer, USCC) pairs of visits since ``since`` in other campaigns: the 回避 of a recent inspection."""
        return self.conn.execute(select(t.certificate_no, i.uscc).join(i, i.id == t.inspection_id)
                                 .where(i.inspected_at >= since, i.campaign_code != other_than)).all()

    def people(self, campaign_code: str) -> list:
        """Every officer on the campaign's teams now, with mobile (the confirmation report's list)."""
        return self.conn.execute(select(t.department_code, o.name, o.certificate_no, o.mobile).distinct()
                                 .join(o, o.certificate_no == t.certificate_no).join(i, i.id == t.inspection_id)
                                 .where(i.campaign_code == campaign_code, t.released_at.is_(None))
                                 .order_by(t.department_code, o.certificate_no)).all()
