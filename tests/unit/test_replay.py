"""The replay of a campaign's chain: what the tables must hold, and each difference named by table and field."""

from __future__ import annotations

from datetime import date, datetime, timezone

from workflow.replay import Answer, Member, Row, compare, replay

T = datetime(2019, 11, 27, 1, 0, tzinfo=timezone.utc)
U = "91130110C9RGYPE586"


def trail() -> list[Row]:
    return [
        Row("sampled", U, "sampled", T, {"departments": ["SJ", "SW"]}),
        Row("answer", U, None, T, {"department": "SJ", "inspects": True, "on_behalf": False}),
        Row("answer", U, None, T, {"department": "SW", "inspects": False, "on_behalf": True, "reason": "不涉及"}),
        Row("confirm", U, "confirmed", T, {"inspecting": ["SJ"]}),
        Row("match_run", None, None, T, {"teams": {U: [["C1", "SJ"], ["C2", "SJ"]], "OTHER": [["C9", "SJ"]]}}),
        Row("match_replace", U, None, T, {"replaced": "C2", "substitute": "C3", "department": "SJ", "reason": "病假"}),
        Row("specialist", U, None, T, {"certificate_no": "C7", "reason": "特种设备"}),
        Row("assign", U, "assigned", T, {}),
        Row("visit", U, None, T, {"date": "2019-12-10", "officers": ["C1", "C3"], "signature": "签字", "note": ""}),
        Row("inspect", U, "inspected", T, {}),
        Row("result", U, None, T, {"item": "SJ-01", "codes": ["B"], "handling": [3], "finding": "未公示", "questions": 1}),
        Row("result", U, None, T, {"item": "SJ-01", "codes": ["1"], "handling": [], "finding": "", "questions": 0,
                                   "method": "", "handling_note": ""}),
    ]


def test_the_trail_says_what_each_table_holds_after_replacements_and_corrections():
    [(uscc, e)] = replay(trail()).items()
    assert uscc == U and e.state == "inspected" and set(e.stamps) == {"sampled", "confirmed", "assigned", "inspected"}
    assert e.answers == {"SJ": Answer(True, None, False), "SW": Answer(False, "不涉及", True)}
    assert e.team == {"C1": Member("SJ", False, False, None), "C2": Member("SJ", False, True, None),
                      "C3": Member("SJ", False, False, "C2"), "C7": e.team["C7"]}
    assert e.team["C7"].specialist and e.visit.day == date(2019, 12, 10) and e.visit.officers == {"C1", "C3"}
    assert e.results["SJ-01"].codes == {"1"} and e.results["SJ-01"].finding is None, "the last result of an item"


def test_each_difference_names_table_field_and_key_and_what_was_not_recorded_is_not_compared():
    recorded = replay(trail())
    stored = replay(trail())
    assert compare(recorded, stored) == []
    e = stored[U]
    e.results["SJ-01"].codes = frozenset({"A", "B"})
    e.answers["SW"] = Answer(True, None, True)
    e.team["C7"] = e.team["C7"]._replace(department="SW")  # the specialist's department was never recorded
    lines = [d.line("石家庄中康企业管理咨询有限公司") for d in compare(recorded, stored)]
    assert lines == [
        f"企业 {U}（石家庄中康企业管理咨询有限公司）：表 inspection_departments 字段 inspects（SW）：审计记录为 否，数据库中为 是",
        f"企业 {U}（石家庄中康企业管理咨询有限公司）：表 inspection_departments 字段 decline_reason（SW）："
        "审计记录为 不涉及，数据库中为 （空）",
        f"企业 {U}（石家庄中康企业管理咨询有限公司）：表 result_codes 字段 code（SJ-01）：审计记录为 1，数据库中为 A、B",
    ]


def test_a_row_only_one_side_holds_is_named_by_its_key():
    recorded = replay(trail())
    stored = replay(trail())
    e = stored[U]
    del e.team["C3"]  # the substitute's row deleted in SQL
    e.answers["HB"] = Answer(True, None, False)  # a dispatch the trail never made
    del e.results["SJ-01"]  # a back-filled result removed
    lines = [d.line("") for d in compare(recorded, stored)]
    assert any("表 team_members 字段 certificate_no（C3）：审计记录为 在检查组，数据库中为 不在检查组" in x for x in lines), lines
    assert any("表 inspection_departments 字段 department_code（HB）：审计记录为 未派发，数据库中为 派发" in x for x in lines), lines
    assert any("表 item_results 字段 item_code（SJ-01）：审计记录为 已回填，数据库中为 未回填" in x for x in lines), lines
    assert len(lines) == 3
