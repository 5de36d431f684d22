"""Result codes and follow-up handling as GLOSSARY.md states them."""

from __future__ import annotations

import pytest

from workflow.results import ItemResult, enterprise_wording, normalise_codes, result_problems


def problems(codes: str, **kw) -> list[str]:
    return result_problems(ItemResult("SJ-01", frozenset(codes), **kw))


def test_no_problem_alone_is_valid_and_needs_nothing_else():
    assert problems("1") == []
    assert problems("F") == [] and problems("7") == [] and problems("9") == []


def test_no_problem_never_combines():
    assert "“1 未发现问题”不能与其他检查结果同时选择" in problems("1F")


def test_a_needs_a_sub_code_and_a_sub_code_needs_a():
    assert "“A 发现问题待后续处理”须同时选择 B、C、6、D、3、4、5 中至少一项" in problems("A", finding="x", handling={2})
    assert any("须同时选择“A" in p for p in problems("B", finding="x", handling={3}))
    assert problems("AB", finding="未公示年报", handling=frozenset({3})) == []


def test_normalise_adds_the_implied_a():
    assert normalise_codes({"b", " 6 "}) == frozenset({"A", "B", "6"})
    assert normalise_codes({"1"}) == frozenset({"1"})


@pytest.mark.parametrize("code", list("EABC6D3458"))
def test_every_problem_code_needs_a_finding_and_handling(code):
    codes = code + ("B" if code == "A" else "") + ("A" if code in "BC6D345" else "")
    found = problems(codes)
    assert "发现问题的，须填写发现问题（具体情况）" in found
    assert "发现问题的，须选择后续处置" in found
    assert problems(codes, finding="现场发现", handling=frozenset({2})) == []


def test_handling_rules():
    assert "后续处置“7 其他”须填写说明" in problems("E", finding="x", handling=frozenset({7}))
    assert problems("E", finding="x", handling=frozenset({7}), handling_note="移交") == []
    assert "后续处置“1 无需后续处置”不能与其他处置同时选择" in problems("E", finding="x", handling=frozenset({1, 2}))
    assert any("后续处置 8 不存在" in p for p in problems("E", finding="x", handling=frozenset({8})))


def test_unknown_codes_and_empty_results_are_named():
    assert any("检查结果代码 Z 不存在" in p for p in problems("Z"))
    assert "没有检查结果" in problems("")


def test_the_enterprise_result_is_the_union_in_glossary_order():
    items = [ItemResult("a", frozenset("E"), finding="x"), ItemResult("b", frozenset("AB"), finding="y")]
    assert enterprise_wording(items) == ["发现问题已责令改正", "发现问题待后续处理", "未按规定公示应当公示的信息"]


def test_no_problem_is_dropped_from_an_enterprise_with_findings():
    from workflow.results import enterprise_codes

    assert enterprise_codes([{"1"}, {"1"}]) == {"1"}
    assert enterprise_codes([{"1"}, {"E"}, {"A", "B"}]) == {"E", "A", "B"}
    assert enterprise_codes([{"1"}, {"F"}]) == {"F"}
