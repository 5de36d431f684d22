"""The campaign file: the seed example parses; every kind of mistake names its key path."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLE_CAMPAIGN
from workflow.campaign_file import CampaignFileError, parse_campaign

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
    assert plan.plan_no == plan.document_no and plan.task_no == plan.code


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
