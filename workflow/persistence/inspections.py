"""The inspection repository: rows in, ``Inspection`` objects out, moves written back.

Core SQL on a Connection, in batches: a campaign of 100,000 inspections loads as
100,000 small objects, and a batch of moves is one executemany. Saving checks
the version each inspection was loaded with, so of two processes moving the same
inspection only the first to commit wins; ``get(lock=True)`` also takes the row
lock, so the second waits and then sees the first one's state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from workflow.errors import UserError
from workflow.inspection import SAMPLED, STATES, DepartmentAnswer, Inspection, TeamMember, Visit
from workflow.persistence import orm
from workflow.persistence.bulk import Bulk, among, bulk_insert, parts
from workflow.persistence.counts import CountKeeper, Unkept
from workflow.results import COUNTED, ItemResult, counted_as

_i = orm.InspectionRow.__table__
_dept = orm.InspectionDepartment.__table__
_departments = orm.Department.__table__
_officers = orm.Officer.__table__
_enterprises = orm.Enterprise.__table__
_team = orm.TeamMemberRow.__table__
_present = orm.VisitOfficer.__table__
_results = orm.ItemResultRow.__table__
_codes = orm.ResultCode.__table__
_handlings = orm.ResultHandling.__table__

_COLUMNS = [_i.c.id, _i.c.campaign_code, _i.c.uscc, _i.c.state, _i.c.version, _i.c.withdraw_reason]
STATE_STAMPS = {state: f"{state}_at" for state in STATES}  # the instant each state was reached


class ConcurrentChange(UserError):
    """Someone else moved the inspection between our read and our write."""


class InspectionRepository:
    def __init__(self, conn: Connection, counts: CountKeeper | Unkept | None = None):
        self.conn = conn
        self.counts = counts or Unkept(conn)  # told before every write the campaign's counts depend on

    # --- inspections ---------------------------------------------------------

    def add(self, campaign_code: str, usccs: Iterable[str], departments: Sequence[str], now: datetime,
            draw_id: int | None = None) -> list[Inspection]:
        """New inspections in ``sampled``, each dispatched to ``departments``."""
        usccs = list(usccs)
        if not usccs:
            return []
        bulk_insert(self.conn, _i, ("uscc",), {"campaign_code": campaign_code, "state": SAMPLED, "version": 1,
                                               "sampled_at": now, "draw_id": draw_id}).run((u,) for u in usccs)
        if draw_id is not None:  # a draw's rows are all this draw's: one query finds them
            added = [Inspection(*r) for r in self.conn.execute(select(*_COLUMNS).where(
                _i.c.campaign_code == campaign_code, _i.c.draw_id == draw_id).order_by(_i.c.id))]
        else:
            added = self.in_campaign(campaign_code, usccs=usccs)
        self.counts.added(i.id for i in added)
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
        return [Inspection(*r) for part in parts(self.conn, usccs)
                for r in self.conn.execute(query.where(among(self.conn, _i.c.uscc, part)))]

    def save(self, inspections: Iterable[Inspection]) -> int:
        """Write every inspection that moved since it was loaded; returns how many.

        Each row is written only if its version is still the one loaded: of two
        processes moving the same inspection, the second to commit is refused."""
        by_dest: dict[str, list[tuple]] = defaultdict(list)
        moved = [i for i in inspections if i.events]
        self.counts.moved(moved)
        for i in moved:
            by_dest[i.state].append((i.state, i.events[-1].at, i.withdraw_reason, i.id, i.version))
        for dest, rows in by_dest.items():
            stamp = STATE_STAMPS[dest]  # a column name from a fixed table, never from input
            statement = Bulk(self.conn, f"UPDATE inspections SET state = ?, version = version + 1, {stamp} = ?, "
                                        "withdraw_reason = ? WHERE id = ? AND version = ?",
                             _i, ("state", stamp, "withdraw_reason", "id", "version"))
            if statement.run(rows) != len(rows):
                raise ConcurrentChange("检查状态已被他人同时更改，本次操作未生效，请重新执行。")
        for i in moved:  # states passed through on the way (moved more than once since loading)
            for event in i.events[:-1]:
                self.conn.execute(update(_i).where(_i.c.id == i.id).values({STATE_STAMPS[event.dest]: event.at}))
        for i in moved:
            i.version += 1
            i.events.clear()
        return len(moved)

    def enterprises(self, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """Per inspection id: the enterprise's USCC, name and address ("" when the directory has none)."""
        out: dict[int, tuple[str, str, str]] = {}
        e = _enterprises.c
        for part in parts(self.conn, ids):
            out.update({iid: (uscc, name, address or "") for iid, uscc, name, address in self.conn.execute(
                select(_i.c.id, _i.c.uscc, e.name, e.address).join(_enterprises, e.uscc == _i.c.uscc)
                .where(among(self.conn, _i.c.id, part)))})
        return out

    def any_in(self, campaign_code: str, state: str) -> bool:
        """Whether one of the campaign's inspections is in ``state``: a single row of ix_inspections_campaign_state."""
        return self.conn.execute(select(_i.c.id).where(_i.c.campaign_code == campaign_code, _i.c.state == state)
                                 .limit(1)).first() is not None

    def usccs_of_draw(self, campaign_code: str, draw_id: int) -> set[str]:
        return set(self.conn.execute(select(_i.c.uscc).where(_i.c.campaign_code == campaign_code,
                                                             _i.c.draw_id == draw_id)).scalars())

    def planned(self, campaign_code: str, states: Sequence[str]) -> list:
        """The visit schedule as stored: (USCC, planned day, group) of inspections in ``states`` that have one."""
        return self.conn.execute(select(_i.c.uscc, _i.c.planned_visit_on, _i.c.visit_group).where(
            _i.c.campaign_code == campaign_code, _i.c.planned_visit_on.is_not(None), _i.c.state.in_(list(states)))
            .order_by(_i.c.planned_visit_on, _i.c.visit_group, _i.c.uscc)).all()

    def set_schedule(self, campaign_code: str, slots: Sequence[tuple[str, date, int]], *, now: datetime) -> None:
        """Each enterprise's visit day and group, and that its 一企一表 has been generated."""
        Bulk(self.conn, "UPDATE inspections SET planned_visit_on = ?, visit_group = ?, forms_generated_at = ? "
                        "WHERE campaign_code = ? AND uscc = ?", _i,
             ("planned_visit_on", "visit_group", "forms_generated_at", "campaign_code", "uscc")).run(
            (day, group, now, campaign_code, uscc) for uscc, day, group in slots)

    # --- the visit and the results --------------------------------------------------

    def store_visit(self, inspection_id: int, visit: Visit, *, now: datetime, actor: str) -> None:
        self.conn.execute(update(_i).where(_i.c.id == inspection_id).values(
            visit_date=visit.day, visit_signature=visit.signature, visit_note=visit.note.strip() or None,
            visit_recorded_at=now, visit_recorded_by=actor))
        self.conn.execute(insert(_present), [{"inspection_id": inspection_id, "certificate_no": c}
                                             for c in sorted(visit.officers_present)])

    def store_result(self, inspection_id: int, result: ItemResult, *, now: datetime, actor: str) -> None:
        """One item's result, replacing what was stored for that item."""
        key = {"inspection_id": inspection_id, "item_code": result.item_code}
        self.counts.touch([inspection_id])
        for table in (_codes, _handlings, _results):
            self.conn.execute(delete(table).where(table.c.inspection_id == inspection_id,
                                                  table.c.item_code == result.item_code))
        self.conn.execute(insert(_results).values(
            **key, finding=result.finding or None, method=result.method or None,
            handling_note=result.handling_note or None, questions=result.questions, recorded_at=now, recorded_by=actor,
            **dict(zip(COUNTED, counted_as(result)))))
        self.conn.execute(insert(_codes), [{**key, "code": code} for code in sorted(result.codes)])
        if result.handling:
            self.conn.execute(insert(_handlings), [{**key, "handling": h} for h in sorted(result.handling)])

    # --- the facts guards read ----------------------------------------------

    def answers(self, ids: Sequence[int]) -> dict[int, tuple[DepartmentAnswer, ...]]:
        names = dict(self.conn.execute(select(_departments.c.code, _departments.c.name)).all())
        out: dict[int, list[DepartmentAnswer]] = defaultdict(list)
        for part in parts(self.conn, ids):
            rows = self.conn.execute(
                select(_dept.c.inspection_id, _dept.c.department_code, _dept.c.inspects, _dept.c.decline_reason,
                       _dept.c.on_behalf)
                .where(among(self.conn, _dept.c.inspection_id, part))
                .order_by(_dept.c.inspection_id, _dept.c.department_code)
            ).all()
            for iid, dept, inspects, reason, on_behalf in rows:
                out[iid].append(DepartmentAnswer(dept, names[dept], inspects, reason or "", bool(on_behalf)))
        return {k: tuple(v) for k, v in out.items()}

    def teams(self, ids: Sequence[int]) -> dict[int, tuple[TeamMember, ...]]:
        out: dict[int, list[TeamMember]] = defaultdict(list)
        for part in parts(self.conn, ids):
            rows = self.conn.execute(select(_team.c.inspection_id, _team.c.certificate_no, _team.c.department_code,
                                            _team.c.specialist, _officers.c.name, _officers.c.certificate_valid_until)
                                     .join(_officers, _officers.c.certificate_no == _team.c.certificate_no)
                                     .where(among(self.conn, _team.c.inspection_id, part),
                                            _team.c.released_at.is_(None)))
            for r in rows:
                out[r.inspection_id].append(TeamMember(r.certificate_no, r.department_code, bool(r.specialist),
                                                       r.name, r.certificate_valid_until))
        return {k: tuple(v) for k, v in out.items()}

    def forms_generated(self, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for part in parts(self.conn, ids):
            found |= set(self.conn.execute(select(_i.c.id).where(among(self.conn, _i.c.id, part),
                                                                 _i.c.forms_generated_at.is_not(None))).scalars())
        return found

    def visits(self, ids: Sequence[int]) -> dict[int, Visit]:
        present: dict[int, set[str]] = defaultdict(set)
        out: dict[int, Visit] = {}
        for part in parts(self.conn, ids):
            for r in self.conn.execute(select(_present).where(among(self.conn, _present.c.inspection_id, part))):
                present[r.inspection_id].add(r.certificate_no)
            rows = self.conn.execute(select(_i.c.id, _i.c.visit_date, _i.c.visit_signature, _i.c.visit_note)
                                     .where(among(self.conn, _i.c.id, part), _i.c.visit_date.is_not(None)))
            for r in rows:
                out[r.id] = Visit(r.visit_date, frozenset(present[r.id]), r.visit_signature or "", r.visit_note or "")
        return out

    def results(self, ids: Sequence[int]) -> dict[int, dict[str, ItemResult]]:
        codes: dict[tuple[int, str], set[str]] = defaultdict(set)
        handling: dict[tuple[int, str], set[int]] = defaultdict(set)
        out: dict[int, dict[str, ItemResult]] = defaultdict(dict)
        for part in parts(self.conn, ids):
            for r in self.conn.execute(select(_codes).where(among(self.conn, _codes.c.inspection_id, part))):
                codes[(r.inspection_id, r.item_code)].add(r.code)
            for r in self.conn.execute(select(_handlings).where(among(self.conn, _handlings.c.inspection_id, part))):
                handling[(r.inspection_id, r.item_code)].add(r.handling)
            for r in self.conn.execute(select(_results).where(among(self.conn, _results.c.inspection_id, part))):
                key = (r.inspection_id, r.item_code)
                out[r.inspection_id][r.item_code] = ItemResult(
                    r.item_code, frozenset(codes[key]), r.finding or "", r.method or "", frozenset(handling[key]),
                    r.handling_note or "", r.questions)
        return dict(out)

    # --- what departments answer ---------------------------------------------

    def record_answer(self, inspection_id: int, department: str, inspects: bool, reason: str, *, now: datetime,
                      actor: str, on_behalf: bool) -> bool:
        """Store a department's answer; False when the enterprise was not dispatched to it."""
        self.counts.touch([inspection_id])
        result = self.conn.execute(
            update(_dept).where(_dept.c.inspection_id == inspection_id, _dept.c.department_code == department)
            .values(inspects=inspects, decline_reason=None if inspects else reason, answered_at=now,
                    answered_by=actor, on_behalf=on_behalf)
        )
        return result.rowcount == 1
