"""The statistics table by SQL aggregates: one query per column for the total, one GROUP BY per column for
the departments (GLOSSARY.md defines each count)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, distinct, func, literal, select, union

from workflow.inspection import WITHDRAWN
from workflow.persistence import orm
from workflow.results import ABNORMAL_CODES, PROBLEM_CODES
from workflow.statistics import TOTAL, StatsRow

i, a, tm = orm.InspectionRow, orm.InspectionDepartment, orm.TeamMemberRow
ir, rc, rh = orm.ItemResultRow, orm.ResultCode, orm.ResultHandling
item, content = orm.InspectionItem, orm.InspectionItemContent


def _live(code: str):
    return and_(i.campaign_code == code, i.state != WITHDRAWN)


def _by(query, grouped: bool, dept_column):
    """The total (no grouping) or per department (GROUP BY ``dept_column``)."""
    if grouped:
        return query.add_columns(dept_column).group_by(dept_column)
    return query


def _scalar_or_map(conn: Connection, query, grouped: bool) -> int | dict[str, int]:
    if grouped:
        return {dept: n for n, dept in conn.execute(query)}
    return conn.execute(query).scalar() or 0


def _columns(conn: Connection, code: str, grouped: bool) -> dict[str, int | dict[str, int]]:
    def run(query, dept_column):
        return _scalar_or_map(conn, _by(query, grouped, dept_column), grouped)

    live = _live(code)
    # Items (with their department) that carry a result on a live inspection.
    results = select(ir.inspection_id, ir.item_code, item.department_code.label("dept")).join(
        item, item.code == ir.item_code).join(i, i.id == ir.inspection_id).where(live).subquery()
    problem_pairs = select(rc.inspection_id.label("iid"), rc.item_code, item.department_code.label("dept")) \
        .join(item, item.code == rc.item_code).join(i, i.id == rc.inspection_id) \
        .where(live, rc.code.in_(sorted(PROBLEM_CODES))).distinct().subquery()
    corrected = union(
        select(rc.inspection_id.label("iid"), item.department_code.label("dept")).join(item, item.code == rc.item_code)
        .join(i, i.id == rc.inspection_id).where(live, rc.code == "E"),
        select(rh.inspection_id.label("iid"), item.department_code.label("dept")).join(item, item.code == rh.item_code)
        .join(i, i.id == rh.inspection_id).where(live, rh.handling == 2)).subquery()
    abnormal = select(rc.inspection_id.label("iid"), item.department_code.label("dept")).join(
        item, item.code == rc.item_code).join(i, i.id == rc.inspection_id).where(
        live, rc.code.in_(sorted(ABNORMAL_CODES))).subquery()
    case = select(rh.inspection_id.label("iid"), item.department_code.label("dept")).join(
        item, item.code == rh.item_code).join(i, i.id == rh.inspection_id).where(live, rh.handling == 4).subquery()
    inspecting = select(a.inspection_id, a.department_code).join(i, i.id == a.inspection_id).where(
        live, a.inspects.is_(True)).subquery()
    used_items = select(results.c.item_code.label("code"), results.c.dept).distinct().subquery()
    out: dict[str, int | dict[str, int]] = {
        "enterprises": run(select(func.count(distinct(inspecting.c.inspection_id))), inspecting.c.department_code)
        if grouped else conn.execute(select(func.count()).where(live)).scalar() or 0,
        "officer_pairs": run(select(func.count()).select_from(tm).join(i, i.id == tm.inspection_id).where(
            live, tm.specialist.is_(False), tm.released_at.is_(None)), tm.department_code),
        "departments": run(select(func.count(distinct(inspecting.c.department_code))), inspecting.c.department_code),
        "items": run(select(func.count(distinct(results.c.item_code))), results.c.dept),
        "contents": run(select(func.count()).select_from(content).join(used_items, used_items.c.code ==
                                                                        content.item_code), used_items.c.dept),
        "problem_items": run(select(func.count()).select_from(problem_pairs), problem_pairs.c.dept),
        "problem_enterprises": run(select(func.count(distinct(problem_pairs.c.iid))), problem_pairs.c.dept),
        "ordered_to_correct": run(select(func.count(distinct(corrected.c.iid))), corrected.c.dept),
        "abnormal": run(select(func.count(distinct(abnormal.c.iid))), abnormal.c.dept),
        "case_opened": run(select(func.count(distinct(case.c.iid))), case.c.dept),
        "questions": run(select(func.coalesce(func.sum(ir.questions), literal(0))).select_from(ir)
                         .join(item, item.code == ir.item_code).join(i, i.id == ir.inspection_id).where(live),
                         item.department_code),
    }
    return out


def campaign_statistics(conn: Connection, code: str, departments: list[tuple[str, str]]) -> list[StatsRow]:
    """The total row, then one row per participating department ((code, name), in the plan's order)."""
    total = StatsRow(TOTAL, {k: int(v) for k, v in _columns(conn, code, grouped=False).items()})
    per = _columns(conn, code, grouped=True)
    rows = [total]
    for dept, name in departments:
        values = {key: int(per[key].get(dept, 0)) for key in per}
        values["departments"] = 1 if values["enterprises"] else 0
        rows.append(StatsRow(name, values))
    return rows
