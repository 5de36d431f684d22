"""The plan checker on the seed campaign and on plans that do not fit the calendar."""

from pathlib import Path

from calendars import WorkdayCalendar
from tests.conftest import EXAMPLE_CAMPAIGN
from workflow.campaign_file import parse_campaign
from workflow.plan_checker import check_plan, plan_calendar, planned_deadlines

SEED = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
CAL = WorkdayCalendar.default()


def findings(source: str, calendar=CAL):
    return [(f.severity, f.subject, f.message) for f in check_plan(parse_campaign(source), calendar)]


def test_seed_has_only_the_summary_warning():
    [(severity, subject, message)] = findings(SEED)
    assert (severity, subject) == ("警告", "deadlines.summary")
    assert "2019年12月17日（星期二）前" in message and "2019年12月20日（星期五）前" in message
    assert "2019年12月13日（星期五）实地核查" in message


def test_seed_deadlines_on_the_planned_timeline():
    planned = planned_deadlines(parse_campaign(SEED), CAL)
    days = {name: p.last_day.isoformat() for name, p in planned.items()}
    assert days == {"confirm": "2019-11-29", "confirmation_report": "2019-12-02", "acknowledge": "2019-12-02",
                    "visit": "2019-12-13", "backfill": "2019-12-20", "summary": "2019-12-17", "publish": "2020-01-13"}


def test_visit_window_without_a_working_day_and_deadline_outside_the_window():
    source = SEED.replace("visit = { from = 2019-12-09, to = 2019-12-13 }", "visit = { from = 2019-12-14, to = 2019-12-15 }")
    source = source.replace("summary = { on = 2019-12-17 }", "summary = { on = 2019-12-23 }")
    found = findings(source)
    assert ("错误", "deadlines.visit", "实地核查时间2019年12月14日（星期六）至2019年12月15日（星期日）没有工作日") in found
    assert ("错误", "deadlines.summary", "总结、统计表报送期限2019年12月23日（星期一）前不在抽查时间2019年11月27日（星期三）至"
            "2019年12月20日（星期五）之内") in found
    assert ("警告", "deadlines.visit", "实地核查截止日2019年12月15日（星期日）不是工作日") in found


def test_uncovered_year_is_an_error_unless_provisional():
    source = SEED.replace("2019-", "2026-").replace("window = { from = 2026-11-27, to = 2026-12-20 }",
                                                   "window = { from = 2026-11-27, to = 2027-01-20 }")
    source = source.replace('backfill = { within = "5 workdays"', 'backfill = { within = "15 workdays"')
    found = findings(source)
    [(severity, subject, message)] = [f for f in found if f[1] == "calendar"]  # one per missing year
    assert (severity, subject) == ("错误", "calendar") and "2027" in message
    # what the calendar can place is still checked (issue 14): the visit window ends on a Sunday
    assert ("警告", "deadlines.visit", "实地核查截止日2026年12月13日（星期日）不是工作日") in found
    provisional = source.replace("provisional_calendar = false", "provisional_calendar = true")
    plan = parse_campaign(provisional)
    found = [(f.severity, f.subject, f.message) for f in check_plan(plan, plan_calendar(plan, Path("."))) ]
    assert any(s == "警告" and subj == "deadlines.backfill" and "暂定" in m for s, subj, m in found)
    assert not any(s == "错误" for s, _, _ in found)


def test_a_finding_names_its_deadline_for_the_office_and_its_key_for_the_files_author():
    [finding] = check_plan(parse_campaign(SEED), CAL)
    assert finding.topic == "总结、统计表报送"
    assert finding.line().startswith("警告 总结、统计表报送（deadlines.summary）：")
