"""The inspection state machine: every transition, every guard both ways, illegal moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from workflow.inspection import NOBODY_SIGNED, REFUSED, STAMPED, STATES, DepartmentAnswer, Facts, Inspection, \
    TeamMember, Visit
from workflow.machine import MACHINE, MOVES, IllegalMove, MoveRefused, allowed_triggers, fire, mermaid
from workflow.results import ItemResult

NOW = datetime(2019, 12, 10, 2, 0, tzinfo=timezone.utc)
SJ = DepartmentAnswer("SJ", "区市场监管局", True)
SW = DepartmentAnswer("SW", "区税务局", True)
TEAM = (TeamMember("130110SJ001", "SJ"), TeamMember("130110SW001", "SW"), TeamMember("130110ZJ009", "SJ", True))
VISIT = Visit(date(2019, 12, 10), frozenset({"130110SJ001", "130110SW001"}), STAMPED)
WINDOW = (date(2019, 12, 9), date(2019, 12, 13))
OK = ItemResult("SJ-01", frozenset("1"))


def good_facts(**changes) -> Facts:
    facts = Facts(actor="clerk@office.luquan.example", actor_is_office=True, answers=(SJ, SW), team=TEAM,
                  forms_generated=True, visit=VISIT, visit_window=WINDOW, form_items=("SJ-01", "SW-01"),
                  results={"SJ-01": OK, "SW-01": replace(OK, item_code="SW-01")}, reason="企业已注销")
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def at(state: str) -> Inspection:
    return Inspection(7, "LQ-2019-H2", "91130110MA0000000X", state)


def refusal(state: str, trigger: str, **changes) -> list[str]:
    inspection = at(state)
    with pytest.raises(MoveRefused) as caught:
        fire(inspection, trigger, good_facts(**changes), NOW)
    assert inspection.state == state and not inspection.events
    return caught.value.problems


# --- the happy path -------------------------------------------------------------


def test_the_whole_life_of_an_inspection():
    inspection = at("sampled")
    for trigger, dest in (("confirm", "confirmed"), ("assign", "assigned"), ("inspect", "inspected"),
                          ("report", "reported"), ("publish", "published")):
        moved = fire(inspection, trigger, good_facts(), NOW)
        assert (moved.trigger, moved.dest, inspection.state) == (trigger, dest, dest)
        assert inspection.events[-1].at == NOW
    assert [e.source for e in inspection.events] == ["sampled", "confirmed", "assigned", "inspected", "reported"]


@pytest.mark.parametrize("state", ["sampled", "confirmed", "assigned"])
def test_withdraw_from_the_early_states_keeps_the_reason(state):
    inspection = at(state)
    moved = fire(inspection, "withdraw", good_facts(reason="  企业已注销 "), NOW)
    assert inspection.state == "withdrawn" and inspection.withdraw_reason == "企业已注销"
    assert moved.payload == {"reason": "企业已注销"}


# --- illegal moves ------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("trigger", [m.trigger for m in MOVES])
def test_a_trigger_from_a_state_that_does_not_allow_it_is_refused(state, trigger):
    if trigger in allowed_triggers(state):
        return
    inspection = at(state)
    with pytest.raises(IllegalMove) as caught:
        fire(inspection, trigger, good_facts(), NOW)
    assert inspection.state == state and not inspection.events
    assert "当前为" in str(caught.value) and inspection.uscc in str(caught.value)


def test_only_the_six_documented_moves_exist():
    table = {(s, t) for s in STATES for t in allowed_triggers(s)}
    assert table == {("sampled", "confirm"), ("confirmed", "assign"), ("assigned", "inspect"),
                     ("inspected", "report"), ("reported", "publish"), ("sampled", "withdraw"),
                     ("confirmed", "withdraw"), ("assigned", "withdraw")}


# --- confirm ---------------------------------------------------------------------------


def test_confirm_names_the_departments_still_to_answer():
    problems = refusal("sampled", "confirm", answers=(SJ, DepartmentAnswer("SW", "区税务局"),
                                                      DepartmentAnswer("ZJ", "区住建局")))
    assert problems == ["尚有 2 个部门未完成比对确认：区税务局、区住建局"]


def test_confirm_when_nobody_inspects_points_to_withdraw():
    declined = (SJ._replace(inspects=False, reason="不在职责范围"), SW._replace(inspects=False, reason="已检查过"))
    problems = refusal("sampled", "confirm", answers=declined)
    assert len(problems) == 1 and "只能撤出" in problems[0]


def test_confirm_needs_a_reason_for_not_inspecting():
    problems = refusal("sampled", "confirm", answers=(SJ, SW._replace(inspects=False, reason=" ")))
    assert problems == ["不检查须说明理由：区税务局"]


def test_confirm_accepts_an_answer_the_office_recorded_and_says_so():
    inspection = at("sampled")
    moved = fire(inspection, "confirm", good_facts(answers=(SJ, SW._replace(inspects=False, reason="无此业态",
                                                                         on_behalf=True))), NOW)
    assert moved.payload == {"inspecting": ["SJ"], "answered_by_office_for": ["SW"]}


# --- assign -------------------------------------------------------------------------------


def test_assign_counts_officers_without_specialists():
    problems = refusal("confirmed", "assign", team=(TEAM[0], TEAM[2]))
    assert "检查组执法人员 1 人，少于 2 人（专业人员不计）" in problems
    assert "区税务局执法人员 0 人，少于 1 人" in problems


def test_assign_uses_the_campaigns_team_size_and_department_minimum():
    assert refusal("confirmed", "assign", officers_per_enterprise=3) == ["检查组执法人员 2 人，少于 3 人（专业人员不计）"]
    assert refusal("confirmed", "assign", per_department_minimum=2) == [
        "区市场监管局执法人员 1 人，少于 2 人", "区税务局执法人员 1 人，少于 2 人"]


def test_assign_ignores_departments_that_do_not_inspect():
    inspection = at("confirmed")
    facts = good_facts(answers=(SJ, SW._replace(inspects=False, reason="无")),
                       team=(TEAM[0], TeamMember("130110SJ002", "SJ")))
    assert fire(inspection, "assign", facts, NOW).dest == "assigned"


def test_assign_needs_the_forms():
    assert refusal("confirmed", "assign", forms_generated=False) == ["尚未生成一企一表（ssj forms）"]


# --- inspect ---------------------------------------------------------------------------------


def test_inspect_needs_a_recorded_visit():
    assert refusal("assigned", "inspect", visit=None) == ["尚未记录实地核查"]


@pytest.mark.parametrize("day", [date(2019, 12, 8), date(2019, 12, 14)])
def test_inspect_visit_date_inside_the_window(day):
    problems = refusal("assigned", "inspect", visit=replace(VISIT, day=day))
    assert problems == [f"核查日期 {day} 不在实地核查时间 2019-12-09 至 2019-12-13 之内"]


def test_inspect_needs_two_team_officers_present_and_no_strangers():
    problems = refusal("assigned", "inspect", visit=replace(VISIT, officers_present=frozenset({"130110SJ001",
                                                                                               "130110ZJ009"})))
    assert problems == ["到场的检查组执法人员 1 人，少于 2 人（专业人员不计）"]
    problems = refusal("assigned", "inspect", visit=replace(VISIT, officers_present=VISIT.officers_present | {"X1"}))
    assert problems == ["执法人员 X1 不在该企业的检查组中"]


@pytest.mark.parametrize("signature", [REFUSED, NOBODY_SIGNED])
def test_inspect_a_refusal_or_nobody_signing_needs_the_note(signature):
    assert refusal("assigned", "inspect", visit=replace(VISIT, signature=signature)) == [
        f"“{signature}”须如实记录情况说明"]
    inspection = at("assigned")
    fire(inspection, "inspect", good_facts(visit=replace(VISIT, signature=signature, note="法定代表人拒绝签字")), NOW)
    assert inspection.state == "inspected"


def test_inspect_refuses_an_unknown_signature_kind():
    assert "签字情况“手印”应为签字、盖章、拒绝签字、无人签字之一" in refusal(
        "assigned", "inspect", visit=replace(VISIT, signature="手印"))


# --- report ---------------------------------------------------------------------------------


def test_report_names_the_items_not_back_filled():
    assert refusal("inspected", "report", results={"SJ-01": OK}) == ["尚有 1 个抽查事项未回填：SW-01"]


def test_report_applies_the_result_code_rules_per_item():
    bad = ItemResult("SW-01", frozenset({"1", "E"}), finding="")
    problems = refusal("inspected", "report", results={"SJ-01": OK, "SW-01": bad})
    assert "SW-01：“1 未发现问题”不能与其他检查结果同时选择" in problems
    assert "SW-01：发现问题的，须填写发现问题（具体情况）" in problems


def test_report_after_nobody_signed_needs_a_6_7_or_9():
    nobody = replace(VISIT, signature=NOBODY_SIGNED, note="住所无人")
    assert refusal("inspected", "report", visit=nobody) == ["记录为无人签字的，至少一个抽查事项的检查结果应为 6、7 或 9"]
    closed = ItemResult("SW-01", frozenset("7"))
    inspection = at("inspected")
    fire(inspection, "report", good_facts(visit=nobody, results={"SJ-01": OK, "SW-01": closed}), NOW)
    assert inspection.state == "reported"


# --- publish and withdraw: the office's acts -------------------------------------------------


def test_publish_only_by_the_office():
    assert refusal("reported", "publish", actor="130110SJ001", actor_is_office=False) == [
        "“130110SJ001”不是本任务领导小组办公室的工作人员"]


def test_withdraw_needs_the_office_and_a_reason():
    assert refusal("confirmed", "withdraw", reason="") == ["须说明撤出理由（--reason）"]
    assert refusal("confirmed", "withdraw", actor="x@dept.example", actor_is_office=False) == [
        "“x@dept.example”不是本任务领导小组办公室的工作人员"]


# --- the shared machine ---------------------------------------------------------------------


def test_loading_never_resets_the_state_and_no_model_is_attached():
    loaded = [at(state) for state in STATES]
    assert [i.state for i in loaded] == list(STATES)
    fire(loaded[1], "assign", good_facts(), NOW)
    assert MACHINE.models == [] and loaded[1].state == "assigned"
    assert [i.state for i in loaded[2:]] == list(STATES[2:])


def test_the_diagram_is_drawn_from_the_definition():
    text = mermaid()
    assert text.startswith("stateDiagram-v2")
    for m in MOVES:
        for source in m.sources:
            assert f"{source} --> {m.dest} : {m.trigger}" in text


def test_inspect_refuses_an_officer_whose_certificate_expired_before_the_visit():
    expired = TeamMember("130110SW001", "SW", False, "孙丽", date(2019, 12, 9))
    problems = refusal("assigned", "inspect", team=(TEAM[0], expired, TEAM[2]))
    assert problems == ["执法证在核查当日已过期：孙丽（130110SW001，有效期至 2019-12-09）"]
    still_valid = TeamMember("130110SW001", "SW", False, "孙丽", date(2019, 12, 10))
    assert fire(at("assigned"), "inspect", good_facts(team=(TEAM[0], still_valid)), NOW).dest == "inspected"


def test_the_visit_rule_names_the_field_of_each_problem():
    from workflow.machine import VisitRecorded

    visit = Visit(date(2019, 12, 20), frozenset({"130110SJ001", "X1"}), REFUSED)
    findings = VisitRecorded().findings(at("assigned"), good_facts(visit=visit))
    assert [field for field, _ in findings] == ["date", "officers", "officers", "note"]


@pytest.mark.parametrize("state,allowed", [
    ("sampled", {"answer", "confirm", "withdraw"}),
    ("confirmed", {"change_team", "issue_form", "assign", "withdraw"}),
    ("assigned", {"change_team", "issue_form", "record_visit", "fill_form", "inspect", "withdraw"}),
    ("inspected", {"record_result", "fill_form", "report"}),
    ("reported", {"publish"}),
    ("published", set()),
    ("withdrawn", set()),
])
def test_what_each_state_allows(state, allowed):
    from workflow.machine import ACTS, can

    actions = set(ACTS) | {m.trigger for m in MOVES}
    assert {a for a in actions if can(state, a)} == allowed


def test_require_refuses_in_chinese_with_the_state():
    from workflow.errors import UserError
    from workflow.machine import RECORD_RESULT, require

    with pytest.raises(UserError) as caught:
        require(at("assigned"), RECORD_RESULT)
    assert str(caught.value) == ("企业 91130110MA0000000X 当前为“已分派”，不能回填检查结果（须先记录实地核查，已回填的不能再改）")


def test_require_of_a_move_is_the_machines_own_refusal():
    from workflow.machine import require

    with pytest.raises(IllegalMove) as caught:
        require(at("published"), "withdraw")
    assert "当前为“已公示”，不能撤出（只能从“已抽取、已确认、已分派”状态撤出）" in str(caught.value)


def test_ready_asks_the_guard_without_moving():
    from workflow.machine import ready

    inspection = at("sampled")
    assert ready(inspection, "confirm", good_facts())
    assert not ready(inspection, "confirm", good_facts(answers=(SJ, SW._replace(inspects=None))))
    assert not ready(inspection, "assign", good_facts()), "the state does not allow it"
    assert inspection.state == "sampled" and not inspection.events
