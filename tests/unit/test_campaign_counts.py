"""The statistics table and the board's counts from a campaign's kept counts (``workflow.campaign_counts``): the
rules that are not sums — each item once, the departments that inspect any, the live enterprises — and how a
count that differs from its recount is worded for the office."""

from __future__ import annotations

from collections import Counter

from workflow.campaign_counts import (department_states, difference, discrepancies, state_counts, statistics_rows,
                                      total_row)
from workflow.statistics import COLUMNS

COUNTS = Counter({
    ("state", "", "reported"): 3, ("state", "", "assigned"): 1, ("state", "", "withdrawn"): 1,
    ("state", "SJ", "reported"): 3, ("state", "SJ", "assigned"): 1, ("state", "SJ", "withdrawn"): 1,
    ("state", "SW", "reported"): 2,
    ("enterprises", "SJ", ""): 4, ("enterprises", "SW", ""): 2,
    ("officer_pairs", "SJ", ""): 8, ("officer_pairs", "SW", ""): 3,
    ("results", "SJ", "SJ-01"): 3, ("results", "SJ", "SJ-02"): 3, ("results", "SW", "SW-01"): 2,
    ("problem_items", "SJ", "SJ-01"): 1, ("problem_items", "SW", "SW-01"): 2,
    ("questions", "SJ", "SJ-02"): 4,
    ("problem_enterprises", "SJ", ""): 1, ("problem_enterprises", "SW", ""): 2, ("problem_enterprises", "", ""): 2,
    ("abnormal", "SW", ""): 1, ("abnormal", "", ""): 1,
})
CONTENTS = {"SJ-01": 2, "SJ-02": 5, "SW-01": 3, "RS-01": 7}


def _values(row) -> dict[str, int]:
    return dict(zip((key for key, _ in COLUMNS), row.cells()))


def test_the_total_counts_each_enterprise_item_and_department_once():
    total = _values(total_row(COUNTS, CONTENTS))
    assert total["enterprises"] == 4, "live enterprises, the withdrawn one not counted"
    assert total["departments"] == 2 and total["items"] == 3 and total["contents"] == 2 + 5 + 3
    assert total["officer_pairs"] == 11 and total["problem_items"] == 3 and total["questions"] == 4
    assert total["problem_enterprises"] == 2, "an enterprise with problems in SJ and SW counts once in the total"
    assert total["abnormal"] == 1 and total["case_opened"] == 0


def test_a_department_row_counts_over_its_items_and_officers():
    rows = statistics_rows(COUNTS, [("SJ", "市场监管局"), ("SW", "税务局"), ("RS", "人社局")], CONTENTS)
    assert [r.label for r in rows] == ["合计", "市场监管局", "税务局", "人社局"]
    sj, sw, rs = (_values(r) for r in rows[1:])
    assert sj == {"enterprises": 4, "officer_pairs": 8, "departments": 1, "items": 2, "contents": 7,
                  "problem_items": 1, "problem_enterprises": 1, "ordered_to_correct": 0, "abnormal": 0,
                  "case_opened": 0, "questions": 4}
    assert sw["items"] == 1 and sw["contents"] == 3 and sw["problem_enterprises"] == 2 and sw["abnormal"] == 1
    assert set(rs.values()) == {0}, "a department with nothing counted: a row of zeros"


def test_the_board_reads_states_of_the_campaign_and_per_department():
    assert state_counts(COUNTS)["reported"] == 3 and state_counts(COUNTS)["published"] == 0
    assert ("SW", "reported", 2) in department_states(COUNTS)
    assert all(dept for dept, _, _ in department_states(COUNTS)), "the campaign's own row is not a department"


def test_a_difference_leaves_out_what_did_not_change():
    after = Counter(COUNTS)
    after[("state", "", "reported")] += 1
    after[("state", "", "assigned")] -= 1
    assert difference(after, COUNTS) == {("state", "", "reported"): 1, ("state", "", "assigned"): -1}


def test_a_kept_count_unlike_its_recount_is_worded_for_the_office():
    recounted = Counter(COUNTS)
    recounted[("abnormal", "SW", "")] = 0
    recounted[("results", "SJ", "SJ-03")] = 1
    lines = discrepancies(COUNTS, recounted, {"SW": "税务局", "SJ": "市场监管局"})
    assert lines == ["统计数字 税务局 应列入异常（户）：保存为 1，按数据表重算为 0",
                     "统计数字 市场监管局 检查项目 SJ-03 已回填（户）：保存为 0，按数据表重算为 1"]
    assert discrepancies(COUNTS, Counter(COUNTS), {}) == []
    late = Counter({("reached", "", "published 2019-12-16"): 3})
    assert discrepancies(late, Counter(), {}) == ["统计数字 全部 检查对象：2019-12-16 成为“已公示”（户）：保存为 3，按数据表重算为 0"]
