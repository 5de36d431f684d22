"""A campaign's counts: the sums over its inspections that the statistics table, the summary and the board show.

Every count here is a sum of what each inspection contributes on its own (an
enterprise counts once per department it inspects and once in the campaign, an
item result once for its item), so it can be kept up to date by adding what the
inspections a transaction changed contribute after it, less what they did before
(``persistence.counts``), and read in a handful of rows whatever the campaign's
size. What is not a sum — how many items or departments have any — is derived
here from the sums, when the table is read.

A count is keyed ``(name, department, detail)``: ``department`` is "" for the
campaign as a whole; ``detail`` is the state (``STATE``), the item code
(``RESULTS``, ``PROBLEM_ITEMS``, ``QUESTIONS``), the state and the day
(``REACHED``), "" otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date

from workflow.inspection import STATE_LABELS, STATES, WITHDRAWN
from workflow.statistics import COLUMNS, TOTAL, StatsRow

Key = tuple[str, str, str]
Counts = Mapping[Key, int]

# Inspections in each state: of the campaign (department ""), and of those dispatched to a department that it has
# not declined (the board's progress per department).
STATE = "state"
INSPECTS = "enterprises"  # live inspections the department inspects
OFFICERS = "officer_pairs"  # officers on live teams, helpers and replaced officers not counted
RESULTS = "results"  # live inspections with a result for the item
PROBLEM_ITEMS = "problem_items"  # … of which found a problem
QUESTIONS = "questions"  # questions answered on the spot, per item
# Enterprises with at least one result counted for each (per department over its items, and in the campaign).
FLAGS = ("problem_enterprises", "ordered_to_correct", "abnormal", "case_opened")
# Inspections that reached each state on each day (the campaign's time zone): detail "state YYYY-MM-DD".
REACHED = "reached"
# Stored with a campaign's counts: which definitions they were counted by. Counts of another version (or none) are
# recounted from the rows; a change to what a count means changes this.
COUNTED = "counted"
VERSION = "1"


def difference(after: Counts, before: Counts) -> Counter:
    """What to add to the stored counts (zeros left out)."""
    out = Counter(after)
    out.subtract(before)
    return Counter({key: n for key, n in out.items() if n})


def state_counts(counts: Counts) -> dict[str, int]:
    """How many of the campaign's inspections are in each state (every state listed)."""
    return {state: counts.get((STATE, "", state), 0) for state in STATES}


def reached_key(state: str, day: date) -> Key:
    return (REACHED, "", f"{state} {day.isoformat()}")


def reached_by_day(counts: Counts) -> dict[tuple[int, date], int]:
    """How many inspections reached each state (its index in ``STATES``) on each day: the summary's progress."""
    out = {}
    for (name, _, detail), n in counts.items():
        if name == REACHED and n:
            state, _, day = detail.partition(" ")
            out[(STATES.index(state), date.fromisoformat(day))] = n
    return out


def department_states(counts: Counts) -> list[tuple[str, str, int]]:
    """(department, state, enterprises) over the enterprises each department was dispatched and did not decline."""
    return sorted((dept, state, n) for (name, dept, state), n in counts.items() if name == STATE and dept and n)


def _row(counts: Counts, department: str, contents: Mapping[str, int]) -> dict[str, int]:
    """The statistics columns of one department ("": the campaign's total), GLOSSARY.md's definitions."""
    used = [item for (name, dept, item), n in counts.items()
            if name == RESULTS and n and (dept == department or not department)]
    sums = {name: sum(n for (key, dept, _), n in counts.items() if key == name and (dept == department or not
                                                                                    department))
            for name in (PROBLEM_ITEMS, QUESTIONS, OFFICERS, INSPECTS)}
    return {"officer_pairs": sums[OFFICERS],
            "enterprises": sums[INSPECTS],
            "items": len(set(used)),
            "contents": sum(contents.get(item, 0) for item in set(used)),
            "problem_items": sums[PROBLEM_ITEMS],
            "questions": sums[QUESTIONS],
            **{flag: counts.get((flag, department, ""), 0) for flag in FLAGS}}


def total_row(counts: Counts, contents: Mapping[str, int]) -> StatsRow:
    """The 合计 row: each enterprise once (live ones), each item once, the departments that inspect any."""
    values = _row(counts, "", contents)
    values["enterprises"] = sum(n for state, n in state_counts(counts).items() if state != WITHDRAWN)
    values["departments"] = len({dept for (name, dept, _), n in counts.items() if name == INSPECTS and n})
    return StatsRow(TOTAL, values)


def statistics_rows(counts: Counts, departments: Sequence[tuple[str, str]], contents: Mapping[str, int]
                    ) -> list[StatsRow]:
    """The seed's statistics table: the total row, then one per department ((code, name), in the plan's order)."""
    rows = [total_row(counts, contents)]
    for dept, name in departments:
        values = _row(counts, dept, contents)
        values["departments"] = 1 if values["enterprises"] else 0
        rows.append(StatsRow(name, values))
    return rows


_LABELS = {INSPECTS: "随机抽查企业（户）", OFFICERS: "随机抽取执法检查人员（人次）", RESULTS: "已回填（户）",
           PROBLEM_ITEMS: "发现问题事项（项）", QUESTIONS: "现场解答疑难问题（个）",
           **{key: label for key, label in COLUMNS if key in FLAGS}}


def described(key: Key, names: Mapping[str, str]) -> str:
    """A count as the office reads it: whose, and what (``names``: department code → name)."""
    name, dept, detail = key
    whose = f"{names.get(dept, dept)} " if dept else "全部 "
    if name == STATE:
        return f"{whose}检查对象：{STATE_LABELS.get(detail, detail)}（户）"
    if name == REACHED:
        state, _, day = detail.partition(" ")
        return f"{whose}检查对象：{day} 成为“{STATE_LABELS.get(state, state)}”（户）"
    return f"{whose}{'检查项目 ' + detail + ' ' if detail else ''}{_LABELS.get(name, name)}"


def discrepancies(stored: Counts, recounted: Counts, names: Mapping[str, str]) -> list[str]:
    """Where the kept counts differ from a recount of the rows (``ssj audit verify``): a count changed by hand,
    or a write that did not keep them."""
    keys = sorted({k for k, n in stored.items() if n} | {k for k, n in recounted.items() if n})
    return [f"统计数字 {described(k, names)}：保存为 {stored.get(k, 0)}，按数据表重算为 {recounted.get(k, 0)}"
            for k in keys if stored.get(k, 0) != recounted.get(k, 0)]
