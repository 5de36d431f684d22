"""Inspection results per item: the result codes and follow-up handling of GLOSSARY.md.

A result is a *set* of codes per (enterprise, item); the enterprise's result is
the union over its items. The rules here are the ones provincial platforms and
the public disclosure system apply, so a back-fill that passes them publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

RESULT_WORDING = {
    "1": "未发现问题",
    "E": "发现问题已责令改正",
    "A": "发现问题待后续处理",
    "B": "未按规定公示应当公示的信息",
    "C": "公示信息隐瞒真实情况、弄虚作假",
    "6": "通过登记的住所（经营场所）无法联系",
    "D": "违反其他市场监管规定",
    "3": "违反食品药品管理相关规定",
    "4": "违反质量技术监督相关规定",
    "5": "违反其他部门相关规定",
    "8": "不配合检查情节严重",
    "F": "未发现开展本次抽查涉及的经营活动",
    "7": "已关闭停业或正在组织清算",
    "9": "已注销 / 被吊销 / 被撤销 / 已迁出",
}
NO_PROBLEM = "1"
FOLLOW_UP = "A"
NEEDS_FOLLOW_UP = frozenset("BC6D345")  # each implies A, and A needs one of them
PROBLEM_CODES = frozenset("EABC6D3458")
ABNORMAL_CODES = frozenset("BC6")  # legal grounds for 列入经营异常名录
ORDERED_TO_CORRECT = "E"  # 责令改正
NOBODY_THERE = frozenset("679")  # nobody may be there to sign: 无人签字 with the reason

HANDLING = {
    1: "无需后续处置（未发现问题或问题已改正）",
    2: "责令改正（由日常监管部门跟踪）",
    3: "列入经营异常名录（由登记机关依法作出）",
    4: "发现案件线索，涉嫌违法立案调查（移送办案机构）",
    5: "违反其他部门规定，抄告相关部门",
    6: "停止检查，反馈日常监管部门处理",
    7: "其他（须填写说明）",
}
NO_HANDLING_NEEDED = 1
CORRECTION_HANDLING = 2  # 责令改正
CASE_HANDLING = 4  # 立案调查
OTHER_HANDLING = 7


@dataclass(frozen=True)
class ItemResult:
    """What officers back-fill for one item of one enterprise's form."""

    item_code: str
    codes: frozenset[str]
    finding: str = ""
    method: str = ""
    handling: frozenset[int] = frozenset()
    handling_note: str = ""
    questions: int = 0

    @property
    def has_problem(self) -> bool:
        return bool(self.codes & PROBLEM_CODES)

    # What the statistics table counts an enterprise for (GLOSSARY.md), decided here once and stored with the
    # result, so the table is one pass over the results whatever the campaign's size.
    @property
    def orders_correction(self) -> bool:
        """责令改正: code E, or handling 2."""
        return ORDERED_TO_CORRECT in self.codes or CORRECTION_HANDLING in self.handling

    @property
    def is_abnormal(self) -> bool:
        """应列入异常: code B, C or 6."""
        return bool(self.codes & ABNORMAL_CODES)

    @property
    def opens_case(self) -> bool:
        """涉嫌违法立案调查: handling 4."""
        return CASE_HANDLING in self.handling


COUNTED = ("problem", "orders_correction", "abnormal", "opens_case")  # as ``item_results`` stores them


def counted_as(result: ItemResult) -> tuple[bool, bool, bool, bool]:
    """What the statistics table counts this result for, in ``COUNTED``'s order."""
    return result.has_problem, result.orders_correction, result.is_abnormal, result.opens_case


def normalise_codes(codes: set[str] | frozenset[str]) -> frozenset[str]:
    """Upper-case, and add A where a code that implies it is present."""
    result = frozenset(c.strip().upper() for c in codes if c.strip())
    return result | {FOLLOW_UP} if result & NEEDS_FOLLOW_UP else result


def result_problems(result: ItemResult) -> list[str]:
    """What is wrong with one item's result, in Chinese; empty when it obeys the rules."""
    return [message for _, message in result_problems_by_field(result)]


def result_problems_by_field(result: ItemResult) -> list[tuple[str, str]]:
    """The same, each with the field it is about (codes, finding, handling, handling_note, questions),
    so a form can point at the cell."""
    problems: list[tuple[str, str]] = []
    codes = result.codes
    unknown = sorted(c for c in codes if c not in RESULT_WORDING)
    if unknown:
        problems.append(("codes", f"检查结果代码 {'、'.join(unknown)} 不存在（可用：{' '.join(RESULT_WORDING)}）"))
    if not codes:
        problems.append(("codes", "没有检查结果"))
    if NO_PROBLEM in codes and len(codes) > 1:
        problems.append(("codes", "“1 未发现问题”不能与其他检查结果同时选择"))
    if FOLLOW_UP in codes and not codes & NEEDS_FOLLOW_UP:
        problems.append(("codes", "“A 发现问题待后续处理”须同时选择 B、C、6、D、3、4、5 中至少一项"))
    if codes & NEEDS_FOLLOW_UP and FOLLOW_UP not in codes:
        problems.append(("codes", "选择了 B、C、6、D、3、4、5 中的一项，须同时选择“A 发现问题待后续处理”"))
    if result.has_problem and not result.finding.strip():
        problems.append(("finding", "发现问题的，须填写发现问题（具体情况）"))
    bad_handling = sorted(h for h in result.handling if h not in HANDLING)
    if bad_handling:
        problems.append(("handling", f"后续处置 {'、'.join(map(str, bad_handling))} 不存在（可用：1–7）"))
    if result.has_problem and not result.handling:
        problems.append(("handling", "发现问题的，须选择后续处置"))
    if NO_HANDLING_NEEDED in result.handling and len(result.handling) > 1:
        problems.append(("handling", "后续处置“1 无需后续处置”不能与其他处置同时选择"))
    if OTHER_HANDLING in result.handling and not result.handling_note.strip():
        problems.append(("handling_note", "后续处置“7 其他”须填写说明"))
    if result.questions < 0:
        problems.append(("questions", f"现场解答疑难问题数不能为负数（{result.questions}）"))
    return problems


def enterprise_codes(item_codes: list[set[str]] | list[frozenset[str]]) -> set[str]:
    """The enterprise's result: the union of its items' codes — "1 未发现问题" only when nothing else was found."""
    codes = set().union(*item_codes) if item_codes else set()
    return codes - {NO_PROBLEM} if len(codes) > 1 else codes


def wording(codes: set[str]) -> list[str]:
    """The codes' standard wording, in the glossary's order."""
    return [RESULT_WORDING[c] for c in RESULT_WORDING if c in codes]


def enterprise_wording(results: list[ItemResult]) -> list[str]:
    return wording(enterprise_codes([r.codes for r in results]))
