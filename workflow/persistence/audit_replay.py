"""The tables a campaign's audit chain is replayed against, read in the replay's shape (``workflow.replay``).

One query per table for the whole campaign (inspections, their departments, team
members, visit officers, item results, result codes, handlings) — never one per
enterprise: the 10,000-enterprise benchmark campaign is checked in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import Connection, select

from workflow.persistence import orm
from workflow.replay import STAMPS, Answer, Enterprise, Member, Result, Row, Visit, replayed_actions
from workflow.results import COUNTED

_i = orm.InspectionRow.__table__
_e = orm.Enterprise.__table__
_dept = orm.InspectionDepartment.__table__
_team = orm.TeamMemberRow.__table__
_present = orm.VisitOfficer.__table__
_results = orm.ItemResultRow.__table__
_codes = orm.ResultCode.__table__
_handlings = orm.ResultHandling.__table__
_events = orm.AuditEvent.__table__


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


class ReplayTables:
    def __init__(self, conn: Connection):
        self.conn = conn

    def rows(self, chain: str) -> Iterator[Row]:
        """The chain's rows that write what the replay checks, in sequence order (payload parsed)."""
        e = _events.c
        wanted = replayed_actions()
        result = self.conn.execution_options(yield_per=5000).execute(
            select(e.action, e.uscc, e.to_state, e.occurred_at, e.payload).where(e.chain == chain).order_by(e.seq))
        for r in result:
            if r.to_state is not None or r.action in wanted:
                yield Row(r.action, r.uscc, r.to_state, r.occurred_at, json.loads(r.payload))

    def campaign(self, code: str) -> tuple[dict[str, Enterprise], dict[str, str]]:
        """Per USCC, what the tables hold for the campaign; and each enterprise's name."""
        ic = _i.c
        by_id: dict[int, Enterprise] = {}
        usccs: dict[int, str] = {}
        names: dict[str, str] = {}
        for r in self.conn.execute(
                select(_i, _e.c.name.label("enterprise_name")).outerjoin(_e, _e.c.uscc == ic.uscc)
                .where(ic.campaign_code == code)):
            m = r._mapping
            visit = None if r.visit_date is None else Visit(r.visit_date, _text(r.visit_signature),
                                                            _text(r.visit_note), frozenset())
            planned = None if r.forms_generated_at is None else (r.planned_visit_on, r.visit_group,
                                                                  r.forms_generated_at)
            by_id[r.id] = Enterprise(r.state, {s: m[f"{s}_at"] for s in STAMPS if m[f"{s}_at"] is not None},
                                     _text(r.withdraw_reason), visit=visit, planned=planned)
            usccs[r.id] = r.uscc
            names[r.uscc] = r.enterprise_name or ""

        def of_campaign(table, *columns):
            return self.conn.execute(select(*columns).join(_i, _i.c.id == table.c.inspection_id)
                                     .where(_i.c.campaign_code == code))

        d = _dept.c
        for r in of_campaign(_dept, d.inspection_id, d.department_code, d.inspects, d.decline_reason, d.on_behalf):
            by_id[r.inspection_id].answers[r.department_code] = Answer(
                None if r.inspects is None else bool(r.inspects), _text(r.decline_reason), bool(r.on_behalf))
        t = _team.c
        for r in of_campaign(_team, t.inspection_id, t.certificate_no, t.department_code, t.specialist,
                             t.released_at, t.substitute_for):
            by_id[r.inspection_id].team[r.certificate_no] = Member(
                r.department_code, bool(r.specialist), r.released_at is not None, r.substitute_for)
        present: dict[int, set[str]] = {}
        for iid, cert in of_campaign(_present, _present.c.inspection_id, _present.c.certificate_no):
            present.setdefault(iid, set()).add(cert)
        for iid, officers in present.items():
            enterprise = by_id[iid]
            if enterprise.visit is None:  # officers present without a visit: shown against the trail's visit
                enterprise.visit = Visit(None, None, None, frozenset(officers))
            else:
                enterprise.visit.officers = frozenset(officers)
        codes: dict[tuple[int, str], set[str]] = {}
        for iid, item, code_ in of_campaign(_codes, _codes.c.inspection_id, _codes.c.item_code, _codes.c.code):
            codes.setdefault((iid, item), set()).add(code_)
        handlings: dict[tuple[int, str], set[int]] = {}
        for iid, item, h in of_campaign(_handlings, _handlings.c.inspection_id, _handlings.c.item_code,
                                        _handlings.c.handling):
            handlings.setdefault((iid, item), set()).add(int(h))
        x = _results.c
        for r in of_campaign(_results, x.inspection_id, x.item_code, x.finding, x.method, x.handling_note,
                             x.questions, *(x[name] for name in COUNTED)):
            key = (r.inspection_id, r.item_code)
            by_id[r.inspection_id].results[r.item_code] = Result(
                frozenset(codes.pop(key, ())), frozenset(handlings.pop(key, ())), _text(r.finding), r.questions,
                _text(r.method), _text(r.handling_note), tuple(bool(getattr(r, name)) for name in COUNTED))
        nothing = (False,) * len(COUNTED)  # an item with no result row is counted for nothing
        for (iid, item), orphan in codes.items():  # codes of an item with no result row
            by_id[iid].results.setdefault(item, Result(frozenset(orphan), frozenset(handlings.pop((iid, item), ())),
                                                       None, None, None, None, nothing))
        for (iid, item), orphan in handlings.items():
            by_id[iid].results.setdefault(item, Result(frozenset(), frozenset(orphan), None, None, None, None, nothing))
        return {usccs[iid]: e for iid, e in by_id.items()}, names
