"""The statistics table by SQL aggregates (GLOSSARY.md defines each count): a handful of queries whatever the
campaign's size — the item results read once with their codes and handlings folded into flags per item, then
counted per department and in total — never the inspections one by one."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, and_, case, distinct, func, literal, select, union_all

from workflow.inspection import WITHDRAWN
from workflow.persistence import orm
from workflow.results import ABNORMAL_CODES, PROBLEM_CODES
from workflow.statistics import TOTAL, StatsRow

i, a, tm = orm.InspectionRow, orm.InspectionDepartment, orm.TeamMemberRow
ir, rc, rh = orm.ItemResultRow, orm.ResultCode, orm.ResultHandling
item, content = orm.InspectionItem, orm.InspectionItemContent

_RESULT_COLUMNS = ("problem_items", "problem_enterprises", "ordered_to_correct", "abnormal", "case_opened", "questions")


def _live(code: str):
    return and_(i.campaign_code == code, i.state != WITHDRAWN)


def _flag(condition):
    return func.max(case((condition, 1), else_=0))


def _item_results(code: str):
    """One row per item result of a live inspection: its department, questions, and 0/1 flags — a problem code,
    责令改正 (code E or handling 2), an abnormal code, a case opened (handling 4)."""
    live = _live(code)
    codes = select(rc.inspection_id, rc.item_code, _flag(rc.code.in_(sorted(PROBLEM_CODES))).label("problem"),
                   _flag(rc.code == "E").label("e"), _flag(rc.code.in_(sorted(ABNORMAL_CODES))).label("abnormal")) \
        .join(i, i.id == rc.inspection_id).where(live).group_by(rc.inspection_id, rc.item_code).subquery()
    handled = select(rh.inspection_id, rh.item_code, _flag(rh.handling == 2).label("h2"),
                     _flag(rh.handling == 4).label("h4")) \
        .join(i, i.id == rh.inspection_id).where(live).group_by(rh.inspection_id, rh.item_code).subquery()
    return select(ir.inspection_id.label("iid"), ir.item_code, item.department_code.label("dept"), ir.questions,
                  func.coalesce(codes.c.problem, 0).label("problem"),
                  case((func.coalesce(codes.c.e, 0) + func.coalesce(handled.c.h2, 0) > 0, 1), else_=0)
                  .label("correct"),
                  func.coalesce(codes.c.abnormal, 0).label("abnormal"), func.coalesce(handled.c.h4, 0).label("case"))\
        .join(item, item.code == ir.item_code).join(i, i.id == ir.inspection_id).where(live) \
        .outerjoin(codes, and_(codes.c.inspection_id == ir.inspection_id, codes.c.item_code == ir.item_code)) \
        .outerjoin(handled, and_(handled.c.inspection_id == ir.inspection_id, handled.c.item_code == ir.item_code)) \
        .cte("r")


def _result_counts(conn: Connection, code: str) -> dict[str | None, dict[str, int]]:
    """The result columns per department, and in total (key None): one query over the item results."""
    r = _item_results(code)

    def counts(dept):
        def enterprises(flag):
            return func.count(distinct(case((flag == 1, r.c.iid))))
        return select(dept.label("dept"), func.coalesce(func.sum(r.c.problem), 0), enterprises(r.c.problem),
                      enterprises(r.c.correct), enterprises(r.c.abnormal), enterprises(r.c.case),
                      func.coalesce(func.sum(r.c.questions), 0))
    query = union_all(counts(literal(None)), counts(r.c.dept).group_by(r.c.dept))
    return {row[0]: dict(zip(_RESULT_COLUMNS, (int(n or 0) for n in row[1:]))) for row in conn.execute(query)}


def _columns(conn: Connection, code: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """(the total row's values, per department the values of its row)."""
    live = _live(code)
    per: dict[str, Counter] = {}

    def add(key: str, rows) -> None:
        for dept, n in rows:
            per.setdefault(dept, Counter())[key] += int(n or 0)

    add("enterprises", conn.execute(select(a.department_code, func.count())  # (inspection, department) is the key
                                    .join(i, i.id == a.inspection_id).where(live, a.inspects.is_(True))
                                    .group_by(a.department_code)))
    add("officer_pairs", conn.execute(select(tm.department_code, func.count()).join(i, i.id == tm.inspection_id)
                                      .where(live, tm.specialist.is_(False), tm.released_at.is_(None))
                                      .group_by(tm.department_code)))
    used = set(conn.execute(select(ir.item_code, item.department_code).join(item, item.code == ir.item_code)
                            .join(i, i.id == ir.inspection_id).where(live).distinct()).all())
    contents = dict(conn.execute(select(content.item_code, func.count()).group_by(content.item_code)).all()) \
        if used else {}
    add("items", Counter(dept for _, dept in used).items())
    add("contents", [(dept, contents.get(item_code, 0)) for item_code, dept in used])
    results = _result_counts(conn, code)
    for dept, values in results.items():
        if dept is not None:
            per.setdefault(dept, Counter()).update(values)
    total = {
        "enterprises": conn.execute(select(func.count()).where(live)).scalar() or 0,
        "officer_pairs": sum(c["officer_pairs"] for c in per.values()),
        "departments": sum(1 for c in per.values() if c["enterprises"]),
        "items": len({item_code for item_code, _ in used}),
        "contents": sum(contents.get(item_code, 0) for item_code, _ in used),
        **{key: results.get(None, {}).get(key, 0) for key in _RESULT_COLUMNS},
    }
    return total, {dept: dict(c) for dept, c in per.items()}


def campaign_statistics(conn: Connection, code: str, departments: list[tuple[str, str]]) -> list[StatsRow]:
    """The total row, then one row per participating department ((code, name), in the plan's order)."""
    total, per = _columns(conn, code)
    rows = [StatsRow(TOTAL, total)]
    keys = ("enterprises", "officer_pairs", "departments", "items", "contents", *_RESULT_COLUMNS)
    for dept, name in departments:
        values = {key: int(per.get(dept, {}).get(key, 0)) for key in keys}
        values["departments"] = 1 if values["enterprises"] else 0
        rows.append(StatsRow(name, values))
    return rows
