"""Read-side queries shared by services and reports (plain SQL, indexed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Select, and_, case, distinct, exists, func, literal, null, or_, select, union_all

from workflow.campaign_plan import CampaignPlan, Sampling
from workflow.persistence import orm
from workflow.persistence.bulk import among
from workflow.persistence.counts import contents, counts_of


def eligible_enterprises(sampling: Sampling, draw_at: datetime, *, with_credit_risk: bool = False) -> Select:
    """USCCs (and credit risks) matching a campaign's sampling criteria at the draw instant.

    In the latest directory, of the categories and statuses listed, capital within
    the range (inclusive, 万元), established on or before the draw date, and not
    inspected (a visit recorded, in any campaign) within the exclusion window.
    """
    e = orm.Enterprise
    draw_date: date = draw_at.date()
    conditions = [
        e.in_latest_directory.is_(True),
        e.category.in_(sampling.categories),
        e.status.in_(sampling.statuses),
        e.established_on <= draw_date,
    ]
    if sampling.capital_min is not None:
        conditions.append(e.registered_capital >= sampling.capital_min)
    if sampling.capital_max is not None:
        conditions.append(e.registered_capital <= sampling.capital_max)
    if sampling.exclude_inspected_within_days:
        i = orm.InspectionRow
        since = draw_at - timedelta(days=sampling.exclude_inspected_within_days)
        conditions.append(~exists().where(i.uscc == e.uscc, i.inspected_at >= since))
    columns = (e.uscc, e.credit_risk) if with_credit_risk else (e.uscc,)
    return select(*columns).where(and_(*conditions))


def count_of(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())


def _joint_backfill():
    """A back-fill owed by its team (no department, no officer of its own): a joint inspection's."""
    t = orm.TaskRow
    return and_(t.kind == "backfill", t.department_code.is_(None), t.certificate_no.is_(None))


def _escalated(code: str, level: int) -> tuple:
    """The campaign's open tasks whose notices reached ``level``."""
    t = orm.TaskRow
    return t.campaign_code == code, t.done_at.is_(None), t.escalation_level >= level


def _counted_member():
    """A team member who owes the team's back-fill: on the team (not replaced), not a specialist helper."""
    tm = orm.TeamMemberRow
    return and_(tm.released_at.is_(None), tm.specialist.is_(False))


class ReportQueries:
    """What the reports, the dashboard and the publication read: aggregates and joins, by SQL."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def inspecting_department_names(self, plan: CampaignPlan) -> dict[int, list[str]]:
        """Per inspection of the campaign: the names of the departments that inspect it, in the plan's order — the
        codes gathered per inspection by SQL, each combination of departments named once (lists shared: read only)."""
        i, a, d = orm.InspectionRow, orm.InspectionDepartment, orm.Department
        order = {dept.code: n for n, dept in enumerate(plan.departments)}
        names = dict(self.conn.execute(select(d.code, d.name)).all())
        gathered = (func.string_agg(a.department_code, literal(",")) if self.conn.dialect.name == "postgresql"
                    else func.group_concat(a.department_code, ","))
        named: dict[str, list[str]] = {}
        found: dict[int, list[str]] = {}
        for iid, codes in self.conn.execute(select(a.inspection_id, gathered).join(i, i.id == a.inspection_id)
                                            .where(i.campaign_code == plan.code, a.inspects.is_(True))
                                            .group_by(a.inspection_id)):
            if codes not in named:
                known = [c for c in codes.split(",") if c in names]  # the join on departments this replaces
                named[codes] = [names[c] for c in sorted(known, key=lambda c: (order.get(c, len(order)), names[c]))]
            if named[codes]:
                found[iid] = named[codes]
        return found

    def item_codes(self, code: str) -> dict[int, dict[str, set[str]]]:
        """Per inspection of the campaign: each item's set of result codes."""
        i, rc = orm.InspectionRow, orm.ResultCode
        found: dict[int, dict[str, set[str]]] = {}
        for iid, item, result in self.conn.execute(select(rc.inspection_id, rc.item_code, rc.code)
                                                   .join(i, i.id == rc.inspection_id).where(i.campaign_code == code)):
            found.setdefault(iid, {}).setdefault(item, set()).add(result)
        return found

    def result_summary(self, code: str, problem_codes: frozenset[str]) -> dict[int, tuple[set[str], int]]:
        """Per inspection with results: every code its items were given, and how many of its items have one of
        ``problem_codes`` — distinct pairs and a GROUP BY, never each item's codes read one by one."""
        i, rc = orm.InspectionRow, orm.ResultCode
        found: dict[int, set[str]] = {}
        for iid, result in self.conn.execute(select(rc.inspection_id, rc.code).join(i, i.id == rc.inspection_id)
                                             .where(i.campaign_code == code).distinct()):
            found.setdefault(iid, set()).add(result)
        problems = dict(self.conn.execute(select(rc.inspection_id, func.count(distinct(rc.item_code)))
                                          .join(i, i.id == rc.inspection_id)
                                          .where(i.campaign_code == code, rc.code.in_(sorted(problem_codes)))
                                          .group_by(rc.inspection_id)).all())
        return {iid: (codes, problems.get(iid, 0)) for iid, codes in found.items()}

    def handling(self, code: str) -> dict[int, set[int]]:
        """Per inspection of the campaign: every follow-up handling of its items."""
        i, rh = orm.InspectionRow, orm.ResultHandling
        found: dict[int, set[int]] = {}
        for iid, h in self.conn.execute(select(rh.inspection_id, rh.handling).join(i, i.id == rh.inspection_id)
                                        .where(i.campaign_code == code).distinct()):
            found.setdefault(iid, set()).add(h)
        return found

    def enterprises(self, code: str, state: str | None = None) -> list:
        """(id, USCC, name, state, visit date) of the campaign's inspections (in ``state``), by USCC."""
        i, e = orm.InspectionRow, orm.Enterprise
        query = select(i.id, i.uscc, e.name, i.state, i.visit_date).join(e, e.uscc == i.uscc).where(
            i.campaign_code == code).order_by(i.uscc)
        return self.conn.execute(query if state is None else query.where(i.state == state)).all()

    def overdue(self, code: str, now: datetime, first: int | None = None) -> list:
        """Every open task past its due instant (the ``first`` by due instant), with its enterprise: the overdue
        report's rows."""
        t, i, e = orm.TaskRow, orm.InspectionRow, orm.Enterprise
        return self.conn.execute(
            select(t.id, t.kind, t.inspection_id, t.department_code, t.certificate_no, t.due_at, t.provisional,
                   t.escalation_level, i.uscc, e.name)
            .outerjoin(i, i.id == t.inspection_id).outerjoin(e, e.uscc == i.uscc)
            .where(t.campaign_code == code, t.done_at.is_(None), t.due_at <= now)
            .order_by(t.due_at, t.id).limit(first)).all()

    def open_task_groups(self, code: str, *, due_after: datetime, due_until: datetime) -> list:
        """Open tasks falling due in a window (``due_after`` exclusive), counted (``n``) per due instant, kind,
        department and officer — and, for a joint back-fill (owed by its team), per inspection: the board's
        "due soon" from two GROUP BYs, not a row per task (a province's first week is a million confirmations).
        The joint back-fills are counted on their own: grouped with the rest by a key holding their inspection,
        the planner expects a group per task and sorts a million rows instead of hashing a dozen groups."""
        t = orm.TaskRow
        window = (t.campaign_code == code, t.done_at.is_(None), t.due_at > due_after, t.due_at <= due_until)
        owned = select(t.due_at, t.kind, t.department_code, t.certificate_no, null().label("inspection_id"),
                       func.count().label("n")).where(*window, ~_joint_backfill()) \
            .group_by(t.due_at, t.kind, t.department_code, t.certificate_no)
        joint = select(t.due_at, t.kind, null(), null(), t.inspection_id, func.count()) \
            .where(*window, _joint_backfill()).group_by(t.due_at, t.kind, t.inspection_id)
        return self.conn.execute(union_all(owned, joint)).all()

    def escalated_groups(self, code: str, level: int) -> list:
        """Open tasks whose notices reached ``level``, counted (``n``, the first task's id ``first_id``) per due
        instant, kind, department and officer — and, for a back-fill (whose people are its team's), per
        inspection: the board's escalated card from two GROUP BYs, not a row per task."""
        t = orm.TaskRow
        escalated = _escalated(code, level)
        owned = select(t.due_at, t.kind, t.department_code, t.certificate_no, null().label("inspection_id"),
                       func.count().label("n"), func.min(t.id).label("first_id")) \
            .where(*escalated, t.kind != "backfill").group_by(t.due_at, t.kind, t.department_code, t.certificate_no)
        backfills = select(t.due_at, t.kind, t.department_code, t.certificate_no, t.inspection_id, func.count(),
                           func.min(t.id)).where(*escalated, t.kind == "backfill") \
            .group_by(t.due_at, t.kind, t.department_code, t.certificate_no, t.inspection_id)
        return self.conn.execute(union_all(owned, backfills)).all()

    def escalated_enterprises(self, code: str, level: int, kind: str, due: datetime, owners: list | None,
                              shown: int) -> tuple[list[str], int]:
        """The enterprises of the open tasks of ``kind`` due at ``due`` whose notices reached ``level`` — of those
        ``owners`` owe (``escalated_groups`` rows; None: all of them): the first ``shown`` names (the USCC where
        there is none), in code-point order, and how many enterprises there are.

        The tasks' enterprises are found first, then each one's name looked up by its key: joined whole, a wave a
        week unanswered (25,000 enterprises) made PostgreSQL read every enterprise of the directory (3,000,000)
        for their names, a second of the board."""
        t, i, e = orm.TaskRow, orm.InspectionRow, orm.Enterprise
        if owners is None:
            owned = literal(True)
        elif kind == "backfill":
            owned = among(self.conn, t.inspection_id, sorted({o.inspection_id for o in owners}))
        else:
            owned = or_(*(and_(t.department_code.is_(None) if o.department_code is None else
                               t.department_code == o.department_code,
                               t.certificate_no.is_(None) if o.certificate_no is None else
                               t.certificate_no == o.certificate_no) for o in owners))
        ids = select(t.inspection_id.label("id")).where(*_escalated(code, level), t.kind == kind, t.due_at == due,
                                                         owned).distinct().cte("ids")
        name = select(e.name).where(e.uscc == i.uscc).scalar_subquery()  # by the directory's key, one at a time
        label = func.coalesce(func.nullif(name, ""), i.uscc).label("label")
        found = select(label).select_from(ids).join(i, i.id == ids.c.id).distinct().subquery()
        in_order = found.c.label.collate("C" if self.conn.dialect.name == "postgresql" else "BINARY")
        first = self.conn.execute(select(found.c.label, select(func.count()).select_from(ids).scalar_subquery())
                                  .order_by(in_order).limit(shown)).all()
        return [name for name, _ in first], first[0][1] if first else 0

    def _owed(self, code: str, now: datetime, *, members: bool = True, own: bool = True):
        """Each overdue task once per owing department: (id, due, inspection, branch, department, certificate). Branch
        'dept': a department's task; 'officer': an officer's (his department); 'team': a joint back-fill, once
        per department of its counted team members (with each member; ``members=False``: once per department, no
        certificate — then no row repeats); 'office': nobody else's. One pass over the overdue tasks: a province's
        first overdue wave is 350,000 of them. ``own=False``: without the departments' own tasks (branch 'dept')."""
        t, o, tm = orm.TaskRow, orm.Officer, orm.TeamMemberRow
        team = select(tm.inspection_id, tm.department_code, tm.certificate_no if members else null().label(
            "certificate_no")).where(_counted_member())
        team = (team if members else team.distinct()).subquery()
        branch = case((t.department_code.isnot(None), "dept"), (t.certificate_no.isnot(None), "officer"),
                      (team.c.department_code.isnot(None), "team"), else_="office")
        return select(t.id.label("id"), t.due_at.label("due"), t.inspection_id.label("enterprise"),  # 1 per USCC
                      branch.label("branch"),
                      func.coalesce(t.department_code, o.department_code, team.c.department_code).label("code"),
                      case((t.department_code.isnot(None), null()),
                           else_=func.coalesce(t.certificate_no, team.c.certificate_no)).label("cert")) \
            .outerjoin(o, and_(t.department_code.is_(None), o.certificate_no == t.certificate_no)) \
            .outerjoin(team, and_(_joint_backfill(), team.c.inspection_id == t.inspection_id)) \
            .where(t.campaign_code == code, t.done_at.is_(None), t.due_at <= now,
                   *(() if own else (t.department_code.is_(None),))).subquery()

    def overdue_by_owner(self, code: str, now: datetime, known: list[str]) -> list[tuple]:
        """Per owing department (None: the office — for a department not in ``known`` too): (department, overdue
        tasks, enterprises concerned, earliest due instant, whether any is the department's own task — its
        contacts answer for those); a joint task counts once in each department.

        A department's own tasks (most of a wave: 350,000 confirmations) are counted over ``ix_tasks_open_owner``
        alone, in (department, enterprise) order; the others (officers', teams', the office's) by ``_owed``, with
        the enterprises a department also has an own task for counted once. Own tasks of a department not in
        ``known`` go to the office with the others: then all are counted in one pass (``_overdue_by_owner``)."""
        t = orm.TaskRow
        overdue = (t.campaign_code == code, t.done_at.is_(None), t.due_at <= now)
        own = self.conn.execute(select(t.department_code, func.count(), func.count(distinct(t.inspection_id)),
                                       func.min(t.due_at)).where(*overdue, t.department_code.isnot(None))
                                .group_by(t.department_code)).all()
        if any(dept not in known for dept, *_ in own):
            return self._overdue_by_owner(code, now, known)
        owed = self._owed(code, now, members=False, own=False)
        owner = case((owed.c.code.in_(known), owed.c.code), else_=null()) if known else null()
        mine = orm.TaskRow.__table__.alias("mine")
        also_own = exists().where(mine.c.campaign_code == code, mine.c.done_at.is_(None), mine.c.due_at <= now,
                                  mine.c.department_code == owed.c.code, mine.c.inspection_id == owed.c.enterprise)
        per = {dept: [tasks, enterprises, due, 1] for dept, tasks, enterprises, due in own}
        for who, tasks, enterprises, due, counted in self.conn.execute(
                select(owner, func.count(), func.count(distinct(owed.c.enterprise)), func.min(owed.c.due),
                       func.count(distinct(case((also_own, owed.c.enterprise))))).group_by(owner)):
            row = per.setdefault(who, [0, 0, due, 0])
            row[0] += tasks
            row[1] += enterprises - counted
            row[2] = min(row[2], due)
        return [(who, *row) for who, row in per.items()]

    def _overdue_by_owner(self, code: str, now: datetime, known: list[str]) -> list[tuple]:
        """``overdue_by_owner`` in one pass over every overdue task."""
        owed = self._owed(code, now, members=False)  # a task once per owing department: nothing to de-duplicate
        owner = case((owed.c.code.in_(known), owed.c.code), else_=null()) if known else null()
        return self.conn.execute(select(owner.label("owner"), func.count(), func.count(distinct(owed.c.enterprise)),
                                        func.min(owed.c.due), func.max(case((owed.c.branch == "dept", 1), else_=0)))
                                 .group_by(owner)).all()

    def overdue_people(self, code: str, now: datetime) -> list[tuple]:
        """Who answers for the overdue tasks that are not a department's own (an officer's, a team's, the office's):
        distinct (branch, department, certificate) of ``_owed``. A department's own are its contacts'
        (``overdue_by_owner`` says which departments have any): at a province's first wave they are 350,000 rows
        this need not sort to find seven departments."""
        owed = self._owed(code, now, own=False)
        return self.conn.execute(select(owed.c.branch, owed.c.code, owed.c.cert).distinct()).all()

    def overdue_counts(self, code: str, now: datetime) -> tuple[int, int]:
        """(overdue tasks, of them joint back-fills owed by more than one department)."""
        t, tm = orm.TaskRow, orm.TeamMemberRow
        overdue = (t.campaign_code == code, t.done_at.is_(None), t.due_at <= now)
        per = select(t.id, func.count(distinct(tm.department_code)).label("n")) \
            .join(tm, and_(tm.inspection_id == t.inspection_id, _counted_member())) \
            .where(*overdue, _joint_backfill()) \
            .group_by(t.id).subquery()  # the 'team' branch of ``_owed``
        total = self.conn.execute(select(func.count()).where(*overdue)).scalar() or 0
        joint = self.conn.execute(select(func.count()).select_from(per).where(per.c.n > 1)).scalar() or 0
        return total, joint

    def answers(self, code: str, order: Sequence[str] = ()) -> Iterator:
        """Every department's 比对确认 of every enterprise: the departments in ``order`` first (any other after
        them), each by USCC. Streamed (a province's are 1,750,000): read them within the transaction."""
        a, i, e = orm.InspectionDepartment, orm.InspectionRow, orm.Enterprise
        rank = case({d: n for n, d in enumerate(order)}, value=a.department_code, else_=len(order)) if order \
            else literal(0)
        return self.conn.execution_options(yield_per=10_000).execute(
            select(a.department_code, i.uscc, e.name, a.inspects, a.decline_reason, a.answered_at, a.answered_by,
                   a.on_behalf).join(i, i.id == a.inspection_id).join(e, e.uscc == i.uscc)
            .where(i.campaign_code == code).order_by(rank, a.department_code, i.uscc))

    def counts(self, code: str):
        """The campaign's counts (``workflow.campaign_counts``): the few rows kept of them, or a recount when those
        are not current (``persistence.counts``)."""
        return counts_of(self.conn, code)

    def item_contents(self) -> dict[str, int]:
        """How many contents (检查内容) each item has."""
        return contents(self.conn)
