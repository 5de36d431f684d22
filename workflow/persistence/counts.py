"""``campaign_counts``: each campaign's counts (``workflow.campaign_counts``), kept equal to a recount of its rows.

The recount (``tally``) is a handful of aggregates — over a campaign, or over some of its inspections by id —
and is the definition: GLOSSARY.md's counts in SQL, never the inspections one by one. What a result is counted
for (a problem, 责令改正, 应列入异常, 立案调查) is stored on its row when it is recorded (``ItemResult`` decides).

Keeping them (``CountKeeper``): the repositories that write an inspection, its answers, its team or its results
tell the keeper first (``touch``); it tallies what those inspections contribute before the write, and when the
unit of work commits, what they contribute after, and adds the difference — in the same transaction, so the
counts move exactly when the rows do. The writers of one campaign take turns at its chain head (``UnitOfWork``),
so no two add to its counts at once. A transaction that touches more than ``LARGE`` inspections (a draw, a
publication) recounts its campaigns instead: a few aggregates over the campaign cost less than two reads of
thousands of inspections by id.

Counts without the current ``VERSION`` marker — a database from before this table, rows written by a
repository without a keeper, or by hand — are recounted by the next changing transaction of the campaign (the
tick is one: ``ensure``), and read meanwhile by a recount (``counts_of``): slower, never wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (ARRAY, Connection, Date, Integer, String, any_, bindparam, case, cast, delete, func, insert,
                        literal, or_, select, union_all)
from sqlalchemy.dialects.postgresql import array, insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflow.campaign_counts import (COUNTED, FLAGS, INSPECTS, OFFICERS, PROBLEM_ITEMS, QUESTIONS, RESULTS, STATE,
                                      VERSION, Key, difference, reached_key)
from workflow.inspection import STATES, WITHDRAWN, Inspection
from workflow.persistence import orm
from workflow.persistence.bulk import among, parts

i, a, tm = orm.InspectionRow, orm.InspectionDepartment, orm.TeamMemberRow
ir, item, content = orm.ItemResultRow, orm.InspectionItem, orm.InspectionItemContent
_counts = orm.CampaignCount.__table__

LARGE = 5_000  # inspections touched in one transaction beyond which it recounts their campaigns

# The enterprise counts and the item result flag each counts.
_FLAG_COLUMNS = dict(zip(FLAGS, (ir.problem, ir.orders_correction, ir.abnormal, ir.opens_case)))


def _one(flag):
    return case((flag, 1), else_=0)


@cache
def _statements(dialect: str, by_ids: bool, zone: bool) -> dict:
    """The recount's statements, built once (building and compiling them cost more than running them for one
    inspection): over the inspections of campaign ``:code`` or of ``:ids``; the day in ``:zone`` if ``zone``."""
    if not by_ids:
        where = i.campaign_code == bindparam("code")
    elif dialect == "postgresql":
        where = i.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        where = i.id.in_(bindparam("ids", expanding=True))
    live = i.state != WITHDRAWN
    return {
        "states": select(i.campaign_code, i.state, func.count()).where(where).group_by(i.campaign_code, i.state),
        "answers": select(i.campaign_code, a.department_code, i.state, a.inspects, func.count())
        .join(i, i.id == a.inspection_id).where(where).group_by(i.campaign_code, a.department_code, i.state,
                                                                a.inspects),
        "officers": select(i.campaign_code, tm.department_code, func.count()).join(i, i.id == tm.inspection_id)
        .where(where, live, tm.specialist.is_(False), tm.released_at.is_(None))
        .group_by(i.campaign_code, tm.department_code),
        "items": select(i.campaign_code, item.department_code, ir.item_code, func.count(), func.sum(_one(ir.problem)),
                        func.sum(ir.questions)).join(item, item.code == ir.item_code).join(i, i.id == ir.inspection_id)
        .where(where, live).group_by(i.campaign_code, item.department_code, ir.item_code),
        "flags": _flags_query(where, live),
        "reached": _reached_query(dialect, where, zone),
    }


def _tally(conn: Connection, params: dict, by_ids: bool, zone: bool) -> dict[str, Counter]:
    """Per campaign, the counts of the inspections the parameters select."""
    run = _statements(conn.dialect.name, by_ids, zone)
    out: dict[str, Counter] = {}

    def add(code: str, key: Key, n) -> None:
        if n:
            out.setdefault(code, Counter())[key] += int(n)

    for code, state, n in conn.execute(run["states"], params):
        add(code, (STATE, "", state), n)
    for code, dept, state, inspects, n in conn.execute(run["answers"], params):
        if inspects is not False:
            add(code, (STATE, dept, state), n)
        if inspects and state != WITHDRAWN:
            add(code, (INSPECTS, dept, ""), n)
    for code, dept, n in conn.execute(run["officers"], params):
        add(code, (OFFICERS, dept, ""), n)
    for code, dept, item_code, n, problems, questions in conn.execute(run["items"], params):
        add(code, (RESULTS, dept, item_code), n)
        add(code, (PROBLEM_ITEMS, dept, item_code), problems)
        add(code, (QUESTIONS, dept, item_code), questions)
    for code, dept, *flags in conn.execute(run["flags"], params):
        for flag, n in zip(FLAGS, flags):
            add(code, (flag, dept or "", ""), n)
    for code, state, day, n in _reached(conn, run["reached"], params):
        add(code, reached_key(state, day), n)
    return out


def _flags_query(where, live):
    """Per campaign and department, and per campaign (department NULL): the enterprises with a result counted for
    each flag — an enterprise once per department and once in the campaign, however many of its items say so."""
    flags = list(_FLAG_COLUMNS.values())
    per_department = select(i.campaign_code.label("code"), ir.inspection_id.label("iid"),
                            item.department_code.label("dept"), *(func.max(_one(f)).label(f.key) for f in flags)) \
        .join(item, item.code == ir.item_code).join(i, i.id == ir.inspection_id) \
        .where(where, live, or_(*flags)).group_by(i.campaign_code, ir.inspection_id, item.department_code) \
        .cte("counted")
    c = per_department.c
    per_enterprise = select(c.code, *(func.max(c[f.key]).label(f.key) for f in flags)) \
        .group_by(c.code, c.iid).subquery()
    return union_all(select(c.code, c.dept, *(func.sum(c[f.key]) for f in flags)).group_by(c.code, c.dept),
                     select(per_enterprise.c.code, literal(None),
                            *(func.sum(per_enterprise.c[f.key]) for f in flags)).group_by(per_enterprise.c.code))


_STAMPS = [getattr(i, f"{state}_at") for state in STATES]  # the instant each state was reached


def _reached_query(dialect: str, where, zone: bool):
    """(campaign, state's place in ``STATES`` from 1, day, inspections) that reached the state that day in the
    campaign's time zone (``:zone`` when all are of one campaign: a constant is twice as quick as each row's
    campaign's), on PostgreSQL, which knows the zones' rules; elsewhere the instants, counted by ``_reached``."""
    if dialect != "postgresql":
        return select(i.campaign_code, *_STAMPS).where(where)
    c = orm.Campaign
    stamps = func.unnest(array(_STAMPS)).table_valued("at", with_ordinality="n").render_derived()
    day = cast(func.timezone(bindparam("zone", type_=String) if zone else c.timezone, stamps.c.at), Date)
    query = select(i.campaign_code, stamps.c.n, day, func.count()).select_from(i)
    if not zone:
        query = query.join(c, c.code == i.campaign_code)
    return query.join(stamps, stamps.c.at.isnot(None)).where(where).group_by(i.campaign_code, stamps.c.n, day)


def _reached(conn: Connection, query, params: dict) -> list[tuple[str, str, date, int]]:
    """(campaign, state, day, inspections) from ``_reached_query``."""
    if conn.dialect.name == "postgresql":
        return [(code, STATES[n - 1], on, count) for code, n, on, count in conn.execute(query, params)]
    zones = {code: ZoneInfo(name) for code, name in conn.execute(select(orm.Campaign.code, orm.Campaign.timezone))}
    found: Counter = Counter()
    for code, *stamps in conn.execute(query, params):
        found.update((code, state, at.astimezone(zones[code]).date())
                     for state, at in zip(STATES, stamps) if at is not None)
    return [(*key, n) for key, n in found.items()]


def _timezone(conn: Connection, code: str) -> str | None:
    """The campaign's time zone (its days are counted in it); None: no such campaign."""
    return conn.execute(select(orm.Campaign.timezone).where(orm.Campaign.code == code)).scalar()


def tally(conn: Connection, *, code: str | None = None, ids: Sequence[int] | None = None) -> dict[str, Counter]:
    """The recount, per campaign: of campaign ``code``, or of the inspections ``ids``."""
    if ids is None:
        zone = _timezone(conn, code)
        return _tally(conn, {"code": code, "zone": zone}, by_ids=False, zone=zone is not None)
    out: dict[str, Counter] = {}
    for part in parts(conn, list(ids)):
        for found, counts in _tally(conn, {"ids": part}, by_ids=True, zone=False).items():
            out.setdefault(found, Counter()).update(counts)
    return out


def contents(conn: Connection) -> dict[str, int]:
    """How many contents (检查内容) each item has."""
    return dict(conn.execute(select(content.item_code, func.count()).group_by(content.item_code)).all())


# --- stored ----------------------------------------------------------------------------------------------------


def stored(conn: Connection, code: str) -> Counter | None:
    """The campaign's stored counts, or None when they are not of the current ``VERSION``."""
    rows = conn.execute(select(_counts.c.name, _counts.c.department_code, _counts.c.detail, _counts.c.n)
                        .where(_counts.c.campaign_code == code)).all()
    if (COUNTED, "", VERSION) not in {(name, dept, detail) for name, dept, detail, _ in rows}:
        return None
    return Counter({(name, dept, detail): n for name, dept, detail, n in rows if name != COUNTED and n})


def counts_of(conn: Connection, code: str) -> Counter:
    """The campaign's counts: as stored, or recounted now when they are not (see the module's docstring)."""
    found = stored(conn, code)
    return found if found is not None else tally(conn, code=code).get(code, Counter())


def _marked(conn: Connection, codes: Iterable[str]) -> set[str]:
    codes = sorted(set(codes))
    if not codes:
        return set()
    return set(conn.execute(select(_counts.c.campaign_code).where(
        _counts.c.campaign_code.in_(codes), _counts.c.name == COUNTED, _counts.c.detail == VERSION)).scalars())


def recount(conn: Connection, code: str) -> None:
    """Replace the campaign's stored counts with a recount."""
    counts = tally(conn, code=code).get(code, Counter())
    conn.execute(delete(_counts).where(_counts.c.campaign_code == code))
    rows = [{"campaign_code": code, "name": name, "department_code": dept, "detail": detail, "n": n}
            for (name, dept, detail), n in sorted(counts.items()) if n]
    conn.execute(insert(_counts), [*rows, {"campaign_code": code, "name": COUNTED, "department_code": "",
                                           "detail": VERSION, "n": 1}])


def _add(conn: Connection, code: str, delta: Counter) -> None:
    """Add ``delta`` to the stored counts (a count not stored yet starts at 0): one statement."""
    if not delta:
        return
    c = _counts.c
    insert_of = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert_of(_counts)
    conn.execute(statement.on_conflict_do_update(index_elements=[c.campaign_code, c.name, c.department_code, c.detail],
                                                 set_={"n": c.n + statement.excluded.n}),
                 [{"campaign_code": code, "name": name, "department_code": dept, "detail": detail, "n": n}
                  for (name, dept, detail), n in sorted(delta.items())])


def _campaigns_of(conn: Connection, ids: Sequence[int]) -> set[str]:
    return {code for part in parts(conn, list(ids))
            for code in conn.execute(select(i.campaign_code).where(among(conn, i.id, part)).distinct()).scalars()}


class CountKeeper:
    """One transaction's part in keeping the counts (see the module's docstring)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._ids: set[int] = set()
        self._before: dict[str, Counter] = {}
        self._recount = False  # touched more than LARGE: recount the campaigns instead
        self._moves: dict[int, _Move] = {}  # moved, and not otherwise touched when they moved
        self._shared: dict = {}  # one object for each (state, instant) reached, and each run of them
        self._journal: list[tuple[int, _Move | None]] = []  # each move recorded, and what it replaced
        self._zones: dict[str, ZoneInfo] = {}

    def touch(self, ids: Iterable[int]) -> None:
        """Before a write to these inspections, their answers, teams or results (a service about to write many may
        name them all first: one tally instead of one per write)."""
        fresh = sorted(set(ids) - self._ids)
        if not fresh:
            return
        self._ids.update(fresh)
        if self._recount or self._over():
            return
        for code, counts in tally(self.conn, ids=fresh).items():
            self._before.setdefault(code, Counter()).update(counts)

    def added(self, ids: Iterable[int]) -> None:
        """After inserting these inspections: they counted nothing before."""
        self._ids.update(ids)
        self._over()

    def moved(self, inspections: Iterable[Inspection]) -> None:
        """Before writing these inspections' moves. A move forward changes only the state counts — the campaign's,
        its departments', the day the state was reached — so it is added as such, without a tally (a publication
        moves a province's 250,000 at once); a withdrawal takes away all the enterprise counted: tallied, as any
        write. An inspection already tallied in this transaction has its move in that difference."""
        withdrawn = []
        for i in inspections:
            if i.id in self._ids or not i.events:
                continue
            if WITHDRAWN in (i.events[0].source, i.state):
                withdrawn.append(i.id)
                continue
            known = self._moves.get(i.id)
            reached = tuple(self._shared.setdefault((e.dest, e.at), (e.dest, e.at)) for e in i.events)
            reached = self._shared.setdefault(reached, reached)  # a publication's 250,000 share one
            self._journal.append((i.id, known))
            self._moves[i.id] = _Move(i.campaign_code, known.source if known else i.events[0].source, i.state,
                                      known.reached + reached if known else reached)
        self.touch(withdrawn)

    def savepoint(self) -> int:
        """Where a block inside the transaction begins (``rollback_to`` it if the block's writes are undone)."""
        return len(self._journal)

    def rollback_to(self, mark: int) -> None:
        """The block's writes were undone: so are the moves it recorded. (What it tallied needs nothing: the tally
        before still holds, and the one after reads the rows as they are.)"""
        while len(self._journal) > mark:
            iid, replaced = self._journal.pop()
            if replaced is None:
                del self._moves[iid]
            else:
                self._moves[iid] = replaced

    def _over(self) -> bool:
        if len(self._ids) > LARGE:
            self._recount = True
            self._before.clear()
        return self._recount

    def flush(self) -> None:
        """Before the commit: the counts of the campaigns touched brought up to date."""
        if not self._ids and not self._moves:
            return
        ids = sorted(self._ids)
        recounted: set[str] = set()
        deltas: dict[str, Counter] = {}
        if self._recount:
            recounted = _campaigns_of(self.conn, ids)
        elif ids:
            after = tally(self.conn, ids=ids)
            for code in set(after) | set(self._before):
                deltas[code] = difference(after.get(code, Counter()), self._before.get(code, Counter()))
        moves = self._move_deltas(deltas, recounted)
        for code, delta in moves.items():
            deltas.setdefault(code, Counter()).update(delta)
        marked = _marked(self.conn, set(deltas) - recounted)
        for code in sorted(recounted | set(deltas)):
            if code in marked:
                _add(self.conn, code, Counter({key: n for key, n in deltas[code].items() if n}))
            else:
                recount(self.conn, code)
        self._ids.clear()
        self._before.clear()
        self._moves.clear()
        self._shared.clear()
        self._journal.clear()
        self._recount = False

    def _move_deltas(self, tallied: dict[str, Counter], recounted: set[str]) -> dict[str, Counter]:
        """The moves' changes to the state counts (but of the campaigns ``recounted``: the recount has them). A
        department's share of a group of moves (from one state to another) is the departments' own count of the
        state moved from when the group is every inspection the campaign had in it (a publication): no read; else
        one count of the group's departments."""
        out: dict[str, Counter] = {}
        groups: dict[tuple[str, str, str], list[int]] = {}
        days: dict[tuple[str, datetime], date] = {}
        for iid, (code, source, dest, reached) in self._moves.items():
            if code in recounted:
                continue
            c = out.setdefault(code, Counter())
            c[(STATE, "", source)] -= 1
            c[(STATE, "", dest)] += 1
            for state, at in reached:
                day = days.get((code, at))
                if day is None:
                    day = days[(code, at)] = at.astimezone(self._zone(code)).date()
                c[reached_key(state, day)] += 1
            groups.setdefault((code, source, dest), []).append(iid)
        kept = {code: stored(self.conn, code) for code in out}
        for (code, source, dest), moved in groups.items():
            had = kept[code]
            if had is not None and not tallied.get(code) and had.get((STATE, "", source), 0) == len(moved):
                shares = {dept: n for (name, dept, state), n in had.items()
                          if name == STATE and dept and state == source}
            else:
                shares = _undeclined(self.conn, moved)
            for dept, n in shares.items():
                out[code][(STATE, dept, source)] -= n
                out[code][(STATE, dept, dest)] += n
        return out

    def _zone(self, code: str) -> ZoneInfo:
        if code not in self._zones:
            self._zones[code] = ZoneInfo(_timezone(self.conn, code))
        return self._zones[code]

    def ensure(self, code: str) -> bool:
        """Recount the campaign if its stored counts are not current; whether it did."""
        if code in _marked(self.conn, [code]):
            return False
        recount(self.conn, code)
        return True


class _Move(NamedTuple):
    code: str
    source: str  # the state when loaded
    dest: str  # the state written
    reached: tuple[tuple[str, datetime], ...]  # each state reached, and when


def _undeclined(conn: Connection, ids: Sequence[int]) -> Counter:
    """Per department, how many of these inspections it was dispatched and has not declined."""
    out: Counter = Counter()
    for part in parts(conn, sorted(ids)):
        out.update(dict(conn.execute(select(a.department_code, func.count()).where(
            among(conn, a.inspection_id, part), a.inspects.isnot(False)).group_by(a.department_code)).all()))
    return out


class Unkept:
    """For a repository used without a unit of work: a write marks its campaigns' counts as not current (they are
    recounted by the next unit of work that changes the campaign), never leaves them wrong."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def touch(self, ids: Iterable[int]) -> None:
        codes = _campaigns_of(self.conn, sorted(set(ids)))
        if codes:
            self.conn.execute(delete(_counts).where(_counts.c.campaign_code.in_(sorted(codes)),
                                                    _counts.c.name == COUNTED))

    added = touch

    def moved(self, inspections: Iterable[Inspection]) -> None:
        self.touch(i.id for i in inspections)
