"""The statistics table by SQL aggregates (GLOSSARY.md defines each count): a handful of queries whatever the
campaign's size, never the inspections one by one. What a result is counted for (a problem, 责令改正, 应列入异常,
立案调查) is stored on its row when it is recorded (``ItemResult`` decides it), so the results are read from one
table: once per department and item, and once more — only the rows counted for something — per enterprise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy import Connection, and_, case, exists, func, literal, or_, select, union_all

from workflow.inspection import WITHDRAWN
from workflow.persistence import orm
from workflow.statistics import COLUMNS, TOTAL, StatsRow

i, a, tm = orm.InspectionRow, orm.InspectionDepartment, orm.TeamMemberRow
ir, item, content = orm.ItemResultRow, orm.InspectionItem, orm.InspectionItemContent

# The enterprise columns and the item result flag each counts.
_ENTERPRISE_COLUMNS = {"problem_enterprises": ir.problem, "ordered_to_correct": ir.orders_correction,
                       "abnormal": ir.abnormal, "case_opened": ir.opens_case}


def _live(code: str):
    return and_(i.campaign_code == code, i.state != WITHDRAWN)


def _one(flag):
    return case((flag, 1), else_=0)


def _live_results(*columns):
    return select(*columns).join(item, item.code == ir.item_code).join(i, i.id == ir.inspection_id)


def _per_item(conn: Connection, code: str) -> list[tuple[str, str, int, int]]:
    """(department, item, items with a problem, questions answered) for every item with a live result."""
    return [(dept, item_code, int(problems or 0), int(questions or 0)) for dept, item_code, problems, questions in
            conn.execute(_live_results(item.department_code, ir.item_code, func.sum(_one(ir.problem)),
                                       func.sum(ir.questions)).where(_live(code))
                         .group_by(item.department_code, ir.item_code))]


def _enterprises_counted(conn: Connection, code: str) -> dict[str | None, dict[str, int]]:
    """Per department, and in total (key None): the enterprises counted in each of ``_ENTERPRISE_COLUMNS`` — an
    enterprise once per department and once in the total, however many of its items say so."""
    flags = list(_ENTERPRISE_COLUMNS.values())
    per_department = _live_results(ir.inspection_id.label("iid"), item.department_code.label("dept"),
                                   *(func.max(_one(f)).label(f.key) for f in flags)) \
        .where(_live(code), or_(*flags)).group_by(ir.inspection_id, item.department_code).cte("counted")
    c = per_department.c
    per_enterprise = select(*(func.max(c[f.key]).label(f.key) for f in flags)).group_by(c.iid).subquery()
    query = union_all(select(c.dept, *(func.sum(c[f.key]) for f in flags)).group_by(c.dept),
                      select(literal(None), *(func.sum(per_enterprise.c[f.key]) for f in flags)))
    return {row[0]: dict(zip(_ENTERPRISE_COLUMNS, (int(n or 0) for n in row[1:]))) for row in conn.execute(query)}


def _counted_in_total(conn: Connection, code: str) -> dict[str, int]:
    """The total row's part of ``_enterprises_counted``: each enterprise once, whatever its departments."""
    flags = list(_ENTERPRISE_COLUMNS.values())
    per_enterprise = select(*(func.max(_one(f)).label(f.key) for f in flags)).join(i, i.id == ir.inspection_id) \
        .where(_live(code), or_(*flags)).group_by(ir.inspection_id).subquery()
    row = conn.execute(select(*(func.sum(per_enterprise.c[f.key]) for f in flags))).one()
    return dict(zip(_ENTERPRISE_COLUMNS, (int(n or 0) for n in row)))


def _item_totals(used: list[tuple[str, str, int, int]], contents: dict[str, int]) -> dict[str, int]:
    """The total row's item columns from ``_per_item`` (an item is one department's)."""
    return {"items": len({item_code for _, item_code, *_ in used}),
            "contents": sum(contents.get(item_code, 0) for _, item_code, *_ in used),
            "problem_items": sum(problems for *_, problems, _ in used),
            "questions": sum(questions for *_, questions in used)}


def _contents(conn: Connection, used: list) -> dict[str, int]:
    return dict(conn.execute(select(content.item_code, func.count()).group_by(content.item_code)).all()) \
        if used else {}


Beside = Callable[[Callable[[Connection], dict]], Future]  # runs a read on another connection, same snapshot


def _columns(conn: Connection, code: str, beside: Beside | None) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """(the total row's values, per department the values of its row). The enterprises counted per flag — the
    largest aggregate — are read ``beside`` the others when the caller can (``UnitOfWork.aside``)."""
    counted = beside(lambda other: _enterprises_counted(other, code)) if beside is not None else None
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
    used = _per_item(conn, code)
    contents = _contents(conn, used)
    add("items", Counter(dept for dept, *_ in used).items())
    add("contents", [(dept, contents.get(item_code, 0)) for dept, item_code, *_ in used])
    add("problem_items", [(dept, problems) for dept, _, problems, _ in used])
    add("questions", [(dept, questions) for dept, *_, questions in used])
    enterprises = counted.result() if counted is not None else _enterprises_counted(conn, code)
    for dept, values in enterprises.items():
        if dept is not None:
            per.setdefault(dept, Counter()).update(values)
    total = {
        "enterprises": conn.execute(select(func.count()).where(live)).scalar() or 0,
        "officer_pairs": sum(c["officer_pairs"] for c in per.values()),
        "departments": sum(1 for c in per.values() if c["enterprises"]),
        **_item_totals(used, contents),
        **{key: enterprises.get(None, {}).get(key, 0) for key in _ENTERPRISE_COLUMNS},
    }
    return total, {dept: dict(c) for dept, c in per.items()}


def campaign_total(conn: Connection, code: str, departments: list[str], beside: Beside | None = None) -> StatsRow:
    """The total row alone (``report summary`` shows no other): ``campaign_statistics``' first row without the
    per-department counts behind the other rows — those read every department's answer for every enterprise.
    A department counts in 涉及检查部门 when it inspects a live enterprise: one EXISTS each, which stops at the
    first it finds."""
    counted = beside(lambda other: _counted_in_total(other, code)) if beside is not None else None
    live = _live(code)
    used = _per_item(conn, code)
    inspecting = [exists(select(a.inspection_id).join(i, i.id == a.inspection_id)
                         .where(live, a.department_code == dept, a.inspects.is_(True))) for dept in departments]
    values = {
        "enterprises": conn.execute(select(func.count()).where(live)).scalar() or 0,
        "officer_pairs": conn.execute(select(func.count()).select_from(tm).join(i, i.id == tm.inspection_id)
                                      .where(live, tm.specialist.is_(False), tm.released_at.is_(None))).scalar() or 0,
        "departments": sum(conn.execute(select(*inspecting)).one()) if inspecting else 0,
        **_item_totals(used, _contents(conn, used)),
        **(counted.result() if counted is not None else _counted_in_total(conn, code)),
    }
    return StatsRow(TOTAL, values)


def campaign_statistics(conn: Connection, code: str, departments: list[tuple[str, str]],
                        beside: Beside | None = None) -> list[StatsRow]:
    """The total row, then one row per participating department ((code, name), in the plan's order)."""
    total, per = _columns(conn, code, beside)
    rows = [StatsRow(TOTAL, total)]
    keys = [key for key, _ in COLUMNS]
    for dept, name in departments:
        values = {key: int(per.get(dept, {}).get(key, 0)) for key in keys}
        values["departments"] = 1 if values["enterprises"] else 0
        rows.append(StatsRow(name, values))
    return rows
