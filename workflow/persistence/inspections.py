"""The inspection repository: rows in, ``Inspection`` objects out, moves written back.

Core SQL on a Connection, in batches: a campaign of 100,000 inspections loads as
100,000 small objects, and a batch of moves is one executemany. Saving checks
the version each inspection was loaded with, so of two processes moving the same
inspection only the first to commit wins; ``get(lock=True)`` also takes the row
lock, so the second waits and then sees the first one's state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from workflow.errors import UserError
from workflow.inspection import DepartmentAnswer, Inspection, TeamMember, Visit
from workflow.persistence import orm
from workflow.persistence.bulk import Bulk, bulk_insert
from workflow.results import ItemResult

_i = orm.InspectionRow.__table__
_dept = orm.InspectionDepartment.__table__
_departments = orm.Department.__table__
_team = orm.TeamMemberRow.__table__
_present = orm.VisitOfficer.__table__
_results = orm.ItemResultRow.__table__
_codes = orm.ResultCode.__table__
_handlings = orm.ResultHandling.__table__

_COLUMNS = [_i.c.id, _i.c.campaign_code, _i.c.uscc, _i.c.state, _i.c.version, _i.c.withdraw_reason]
CHUNK = 900  # ids per IN (…) list, well inside every backend's parameter limit


class ConcurrentChange(UserError):
    """Someone else moved the inspection between our read and our write."""


def _chunks(values: Sequence) -> Iterator[list]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start:start + CHUNK])


class InspectionRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- inspections ---------------------------------------------------------

    def add(self, campaign_code: str, usccs: Iterable[str], departments: Sequence[str], now: datetime,
            draw_id: int | None = None) -> list[Inspection]:
        """New inspections in ``sampled``, each dispatched to ``departments``."""
        usccs = list(usccs)
        if not usccs:
            return []
        bulk_insert(self.conn, _i, ("uscc",), {"campaign_code": campaign_code, "state": "sampled", "version": 1,
                                               "sampled_at": now, "draw_id": draw_id}).run((u,) for u in usccs)
        added = self.in_campaign(campaign_code, usccs=usccs)
        bulk_insert(self.conn, _dept, ("inspection_id", "department_code"),
                    {"dispatched_at": now, "on_behalf": False}).run((i.id, d) for i in added for d in departments)
        return added

    def get(self, campaign_code: str, uscc: str, *, lock: bool = True) -> Inspection | None:
        query = select(*_COLUMNS).where(_i.c.campaign_code == campaign_code, _i.c.uscc == uscc)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        return Inspection(*row) if row else None

    def in_campaign(self, campaign_code: str, *, state: str | None = None,
                    usccs: Sequence[str] | None = None) -> list[Inspection]:
        query = select(*_COLUMNS).where(_i.c.campaign_code == campaign_code).order_by(_i.c.id)
        if state is not None:
            query = query.where(_i.c.state == state)
        if usccs is None:
            return [Inspection(*r) for r in self.conn.execute(query).all()]
        return [Inspection(*r) for part in _chunks(usccs) for r in self.conn.execute(query.where(_i.c.uscc.in_(part)))]

    def save(self, inspections: Iterable[Inspection]) -> int:
        """Write every inspection that moved since it was loaded; returns how many."""
        by_dest: dict[str, list[tuple]] = defaultdict(list)
        moved = [i for i in inspections if i.events]
        for i in moved:
            by_dest[i.state].append((i.events[-1].at, i.withdraw_reason, i.id, i.version))
        for dest, rows in by_dest.items():
            statement = Bulk(self.conn, f"UPDATE inspections SET state = '{dest}', version = version + 1, "
                                        f"{dest}_at = ?, withdraw_reason = ? WHERE id = ? AND version = ?",
                             _i, (f"{dest}_at", "withdraw_reason", "id", "version"))
            if statement.run(rows) != len(rows):
                raise ConcurrentChange("检查状态已被他人同时更改，本次操作未生效，请重新执行。")
        for i in moved:  # states passed through on the way (moved more than once since loading)
            for event in i.events[:-1]:
                self.conn.execute(update(_i).where(_i.c.id == i.id).values({f"{event.dest}_at": event.at}))
        for i in moved:
            i.version += 1
            i.events.clear()
        return len(moved)

    # --- the facts guards read ----------------------------------------------

    def answers(self, ids: Sequence[int]) -> dict[int, tuple[DepartmentAnswer, ...]]:
        names = dict(self.conn.execute(select(_departments.c.code, _departments.c.name)).all())
        out: dict[int, list[DepartmentAnswer]] = defaultdict(list)
        for part in _chunks(ids):
            rows = self.conn.execute(
                select(_dept.c.inspection_id, _dept.c.department_code, _dept.c.inspects, _dept.c.decline_reason,
                       _dept.c.on_behalf)
                .where(_dept.c.inspection_id.in_(part)).order_by(_dept.c.inspection_id, _dept.c.department_code)
            ).all()
            for iid, dept, inspects, reason, on_behalf in rows:
                out[iid].append(DepartmentAnswer(dept, names[dept], inspects, reason or "", bool(on_behalf)))
        return {k: tuple(v) for k, v in out.items()}

    def teams(self, ids: Sequence[int]) -> dict[int, tuple[TeamMember, ...]]:
        out: dict[int, list[TeamMember]] = defaultdict(list)
        for part in _chunks(ids):
            rows = self.conn.execute(select(_team.c.inspection_id, _team.c.certificate_no, _team.c.department_code,
                                            _team.c.specialist)
                                     .where(_team.c.inspection_id.in_(part), _team.c.released_at.is_(None)))
            for r in rows:
                out[r[0]].append(TeamMember(r[1], r[2], bool(r[3])))
        return {k: tuple(v) for k, v in out.items()}

    def forms_generated(self, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for part in _chunks(ids):
            found |= set(self.conn.execute(select(_i.c.id).where(_i.c.id.in_(part),
                                                                 _i.c.forms_generated_at.is_not(None))).scalars())
        return found

    def visits(self, ids: Sequence[int]) -> dict[int, Visit]:
        present: dict[int, set[str]] = defaultdict(set)
        out: dict[int, Visit] = {}
        for part in _chunks(ids):
            for r in self.conn.execute(select(_present).where(_present.c.inspection_id.in_(part))):
                present[r.inspection_id].add(r.certificate_no)
            rows = self.conn.execute(select(_i.c.id, _i.c.visit_date, _i.c.visit_signature, _i.c.visit_note)
                                     .where(_i.c.id.in_(part), _i.c.visit_date.is_not(None)))
            for r in rows:
                out[r.id] = Visit(r.visit_date, frozenset(present[r.id]), r.visit_signature or "", r.visit_note or "")
        return out

    def results(self, ids: Sequence[int]) -> dict[int, dict[str, ItemResult]]:
        codes: dict[tuple[int, str], set[str]] = defaultdict(set)
        handling: dict[tuple[int, str], set[int]] = defaultdict(set)
        out: dict[int, dict[str, ItemResult]] = defaultdict(dict)
        for part in _chunks(ids):
            for r in self.conn.execute(select(_codes).where(_codes.c.inspection_id.in_(part))):
                codes[(r.inspection_id, r.item_code)].add(r.code)
            for r in self.conn.execute(select(_handlings).where(_handlings.c.inspection_id.in_(part))):
                handling[(r.inspection_id, r.item_code)].add(r.handling)
            for r in self.conn.execute(select(_results).where(_results.c.inspection_id.in_(part))):
                key = (r.inspection_id, r.item_code)
                out[r.inspection_id][r.item_code] = ItemResult(
                    r.item_code, frozenset(codes[key]), r.finding or "", r.method or "", frozenset(handling[key]),
                    r.handling_note or "", r.questions)
        return dict(out)

    # --- what departments answer ---------------------------------------------

    def record_answer(self, inspection_id: int, department: str, inspects: bool, reason: str, *, now: datetime,
                      actor: str, on_behalf: bool) -> bool:
        """Store a department's answer; False when the enterprise was not dispatched to it."""
        result = self.conn.execute(
            update(_dept).where(_dept.c.inspection_id == inspection_id, _dept.c.department_code == department)
            .values(inspects=inspects, decline_reason=None if inspects else reason, answered_at=now,
                    answered_by=actor, on_behalf=on_behalf)
        )
        return result.rowcount == 1
