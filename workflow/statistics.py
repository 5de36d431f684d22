"""The seed's statistics table (附件): its columns, wording and order, with GLOSSARY.md's definitions.

One total row and one row per department — a department's row counts over its
items, its officers and the enterprises it inspected, so department rows need
not add up to the total. The numbers are the campaign's counts, kept as its
rows change (``workflow.campaign_counts``); this module only names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = (
    ("enterprises", "随机抽查企业（户）"),
    ("officer_pairs", "随机抽取执法检查人员（人次）"),
    ("departments", "涉及检查部门（个）"),
    ("items", "检查项目（个）"),
    ("contents", "检查内容（个）"),
    ("problem_items", "发现问题事项（项）"),
    ("problem_enterprises", "发现问题企业（户）"),
    ("ordered_to_correct", "责令改正（户）"),
    ("abnormal", "应列入异常（户）"),
    ("case_opened", "涉嫌违法立案调查（户）"),
    ("questions", "现场解答疑难问题（个）"),
)
# The two header groups of the attachment, over the columns they span.
GROUPS = {"抽查结果": ("problem_items", "problem_enterprises"),
          "抽查结果处理": ("ordered_to_correct", "abnormal", "case_opened")}
TOTAL = "合计"


@dataclass
class StatsRow:
    label: str  # 合计, or the department's name
    values: dict[str, int] = field(default_factory=dict)

    def cells(self) -> list[int]:
        return [self.values.get(key, 0) for key, _ in COLUMNS]
