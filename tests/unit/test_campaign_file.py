"""The campaign file: the seed example parses; every kind of mistake names its key path."""

import json
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLE_CAMPAIGN
from workflow.campaign_file import CampaignFileError, CampaignPlan, parse_campaign

SEED = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")


def problems_of(source: str) -> list[tuple[str, str]]:
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(source)
    return info.value.problems


def test_seed_campaign_carries_the_seed_numbers():
    plan = parse_campaign(SEED)
    assert plan.code == "luquan-2019-h2"
    assert plan.document_no == "石鹿双随机办〔2019〕11号"
    assert (plan.window_from, plan.window_to) == (date(2019, 11, 27), date(2019, 12, 20))
    assert plan.draw_at == datetime(2019, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert plan.sampling.categories == ("内资企业",)
    assert (plan.sampling.capital_min, plan.sampling.capital_max) == (500, 1000)
    assert plan.sampling.ratio == Decimal("0.01")
    assert plan.lead_department == "SJ"
    assert plan.matching.officers_per_enterprise == 2
    d = plan.deadlines
    assert (d["confirm"].rule.n, d["confirm"].rule.workdays, d["confirm"].after) == (2, True, "dispatch")
    assert d["confirmation_report"].at == datetime(2019, 12, 2, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (d["acknowledge"].rule.n, d["acknowledge"].rule.workdays) == (2, False)
    assert (d["visit"].start, d["visit"].end) == (date(2019, 12, 9), date(2019, 12, 13))
    assert (d["backfill"].rule.n, d["backfill"].after) == (5, "visit")
    assert d["summary"].on == date(2019, 12, 17)
    assert d["publish"].statutory and d["publish"].rule.n == 20
    assert plan.email_office == "1qqj2463@163.com"
    assert (plan.plan_no, plan.task_no) == ("石鹿双随机办〔2019〕4号", plan.document_no), "the seed's plan, the notice"


def test_every_seed_value_carries_a_comment():
    lines = SEED.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith("#") and not stripped.startswith("["):
            window = lines[max(0, i - 3): i + 1]
            assert any("#" in w for w in window), f"line {i + 1} has no comment quoting the seed: {line}"


@pytest.mark.parametrize("old, new, path, fragment", [
    ('backfill = { within = "5 workdays", after = "visit" }', 'backfill = { within = "5 workdays", after = "vist" }', "deadlines.backfill.after", "未知的事件 “vist”"),
    ('vehicles = 4', 'vehicles = 4\nvehicle = 4', "matching.vehicle", "未知的键"),
    ('confirm = { within', 'confirmm = { within', "deadlines.confirmm", "未知的键"),
    ('within = "2 workdays", after = "dispatch"', 'within = "2 weekdays", after = "dispatch"',
     "deadlines.confirm.within", "应为 \"N workdays\" 或 \"N days\""),
    ('summary = { on = 2019-12-17 }', 'summary = { by = 2019-12-17 }', "deadlines.summary", "无法识别的期限形式"),
    ('summary = { on = 2019-12-17 }', 'summary = { on = 2019-12-17, cutoff = "25:00" }',
     "deadlines.summary.cutoff", "应为 \"HH:MM\""),
    ('window = { from = 2019-11-27, to = 2019-12-20 }', 'window = { from = 2019-12-27, to = 2019-12-20 }',
     "campaign.window", "早于开始日期"),
    ('ratio = "1%"', 'ratio = "150%"', "sampling.ratio", "不超过 100%"),
    ('ratio = "1%"', 'ratio = 0.01', "sampling.ratio", "应为比例字符串"),
    ('rounding = "ceil"', 'rounding = "up"', "sampling.rounding", "ceil、floor 或 half_up"),
    ('categories = ["内资企业"]', 'categories = ["国有企业"]', "sampling.categories[0]", "不是主体类别"),
    ('officers_per_enterprise = 2', 'officers_per_enterprise = 1', "matching.officers_per_enterprise", "不少于 2 人"),
    ('lead_department = "SJ"', 'lead_department = "ZJ"', "campaign.lead_department", "不在参加部门"),
    ('draw_at = 2019-11-27T09:00:00', 'draw_at = "2019-11-27 09:00"', "campaign.draw_at", "本地日期时间"),
    ('ladder = ["responsible", "department_contact", "department_leader", "office"]',
     'ladder = ["responsible", "boss"]', "escalation.ladder[1]", "不是督办层级"),
    ('visit = { from = 2019-12-09, to = 2019-12-13 }', 'visit = { on = 2019-12-13 }', "deadlines.visit", "时间段"),
])
def test_mistakes_name_their_key_path(old, new, path, fragment):
    assert old in SEED
    found = problems_of(SEED.replace(old, new, 1))
    assert any(p == path and fragment in m for p, m in found), found


def test_missing_required_deadline():
    source = SEED.replace('backfill = { within = "5 workdays", after = "visit" }\n', "")
    assert ("deadlines.backfill", "缺少此项（结果回填的期限）") in problems_of(source)


def test_all_problems_are_reported_at_once():
    source = SEED.replace('vehicles = 4', 'vehicles = 0').replace('rounding = "ceil"', 'rounding = "x"')
    paths = [p for p, _ in problems_of(source)]
    assert "matching.vehicles" in paths and "sampling.rounding" in paths


def test_toml_syntax_error_names_the_line():
    [(path, message)] = problems_of(SEED.replace("[matching]", "[matching"))
    assert path == "" and message.startswith("TOML 语法错误：第 ")


def test_cutoff_and_strata():
    source = SEED.replace('summary = { on = 2019-12-17 }', 'summary = { on = 2019-12-17, cutoff = "17:00" }')
    source = source.replace('exclude_inspected_within = "365 days"',
                            'exclude_inspected_within = "365 days"\n[[sampling.strata]]\ncredit_risk = "C"\nratio = "5%"')
    plan = parse_campaign(source)
    assert plan.deadlines["summary"].cutoff == time(17, 0)
    assert plan.sampling.strata[0].credit_risk == "C" and plan.sampling.strata[0].ratio == Decimal("0.05")


@pytest.mark.parametrize("old, new, path, message", [
    ("capital_min = 500", "capital_min = 2000", "sampling.capital_max", "上限 1000 小于下限 2000"),
    ('code = "SW"', 'code = "SJ"', "departments[1].code", "部门“SJ”重复"),
    ('items = ["SW-01"]', 'items = ["SW-01", "SJ-02"]', "departments[1].items", "抽查事项“SJ-02”已列在部门“SJ”下"),
    ('categories = ["内资企业"]', "categories = []", "sampling.categories", "至少列出一个主体类别"),
    ('items = ["YJ-01"]', "items = []", "departments[4].items", "至少列出一个抽查事项"),
    ('ladder = ["responsible", "department_contact", "department_leader", "office"]',
     'ladder = ["responsible", "office", "office"]', "escalation.ladder", "督办层级不能重复"),
    ("visit = { from = 2019-12-09, to = 2019-12-13 }", "visit = { from = 2019-12-13, to = 2019-12-09 }",
     "deadlines.visit", "结束日期 2019-12-09 早于开始日期 2019-12-13"),
    ('office_staff = ["1qqj2463@163.com", "clerk@office.luquan.example"]',
     'office_staff = ["1qqj2463@163.com", "clerk"]',
     "campaign.office_staff[1]", "应为电子邮箱地址（应有且仅有一个 @），实际为 “clerk”"),
    ("confirmation_report = { at = 2019-12-02T17:00:00 }",
     'confirmation_report = { at = 2019-12-02T17:00:00, cutoff = "17:00" }',
     "deadlines.confirmation_report.cutoff", "此期限形式不接受该键"),
    ('timezone = "Asia/Shanghai"', 'timezone = "Asia"', "campaign.timezone", "不是已知的时区名称（如 Asia/Shanghai），实际为 “Asia”"),
])
def test_rules_across_keys_name_their_key_path(old, new, path, message):
    assert old in SEED
    assert (path, message) in problems_of(SEED.replace(old, new, 1))


def test_repeated_strata_and_unknown_credit_risk():
    strata = "".join(f'\n[[sampling.strata]]\ncredit_risk = "{risk}"\nratio = "5%"' for risk in ("C", "E", "C"))
    exclude = 'exclude_inspected_within = "365 days"'
    found = problems_of(SEED.replace(exclude, exclude + strata))
    assert found == [("sampling.strata[1].credit_risk", "应为 A、B、C、D 或 未分类，实际为 “E”"),
                     ("sampling.strata[2].credit_risk", "分层“C”重复")]


VARIANT = (
    SEED.replace('timezone = "Asia/Shanghai"', 'timezone = "Europe/Berlin"')
    .replace("capital_min = 500\n", "").replace("capital_max = 1000\n", "")
    .replace('exclude_inspected_within = "365 days"', 'exclude_inspected_within = "365 days"\n'
             '[[sampling.strata]]\ncredit_risk = "C"\nratio = "5%"\n'
             '[[sampling.strata]]\ncredit_risk = "未分类"\nratio = "0.5%"')
    .replace("summary = { on = 2019-12-17 }", 'summary = { on = 2019-12-17, cutoff = "17:00" }')
    .replace('confirm = { within = "2 workdays", after = "dispatch" }',
             'confirm = { within = "2 workdays", after = "dispatch", cutoff = "16:30", statutory = true }')
    .replace('remind_before = "1 workday"\ngrace = "1 workday"', 'remind_before = "2 days"\ngrace = "3 workdays"')
    .replace('ladder = ["responsible", "department_contact", "department_leader", "office"]',
             'ladder = ["office", "responsible"]')
    .replace('calendar_files = []', 'calendar_files = ["local.toml"]')
)


@pytest.mark.parametrize("source", [SEED, VARIANT], ids=["seed", "variant"])
def test_the_stored_plan_reads_back_as_the_plan(source):
    plan = parse_campaign(source)
    stored = json.loads(json.dumps(plan.to_json()))  # as the database's JSON column gives it back
    restored = CampaignPlan.from_json(stored)
    assert restored == plan
    assert repr(restored) == repr(plan)  # the same types too: tuples, Decimals, times, the campaign's timezone
    assert restored.to_json() == stored


def test_the_variant_holds_what_the_round_trip_must_carry():
    plan = parse_campaign(VARIANT)
    berlin = ZoneInfo("Europe/Berlin")
    assert plan.draw_at == datetime(2019, 11, 27, 9, 0, tzinfo=berlin)
    assert plan.deadlines["confirmation_report"].at == datetime(2019, 12, 2, 17, 0, tzinfo=berlin)
    assert (plan.deadlines["summary"].on, plan.deadlines["summary"].cutoff) == (date(2019, 12, 17), time(17, 0))
    assert plan.deadlines["confirm"].cutoff == time(16, 30) and plan.deadlines["confirm"].statutory
    assert (plan.sampling.capital_min, plan.sampling.capital_max) == (None, None)
    strata = [(s.credit_risk, s.ratio) for s in plan.sampling.strata]
    assert strata == [("C", Decimal("0.05")), ("未分类", Decimal("0.005"))]
    assert (str(plan.escalation.remind_before), str(plan.escalation.grace)) == ("2 days", "3 workdays")
    assert plan.escalation.ladder == ("office", "responsible")


def test_a_stored_plan_from_before_the_calendar_snapshot_still_reads():
    stored = parse_campaign(SEED).to_json()
    del stored["calendar_snapshot"]
    assert CampaignPlan.from_json(stored) == parse_campaign(SEED)
