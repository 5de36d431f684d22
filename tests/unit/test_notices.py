"""When each notice of a task falls (reminder, overdue, the ladder), on the working-day calendar."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from calendars import WorkdayCalendar
from workflow.campaign_file import Escalation, Rule
from workflow.notices import due_notice, schedule, workdays_overdue

TZ = ZoneInfo("Asia/Shanghai")
LADDER = ("responsible", "department_contact", "department_leader", "office")
ESC = Escalation(Rule(1, True), Rule(1, True), LADDER)
CAL = WorkdayCalendar.default()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_the_schedule_skips_weekends_and_holidays():
    # Due by the end of Mon 2019-09-30; 10-01..10-07 is the National Day holiday, 2019-10-12 (Sat) a 调休 workday.
    notices = schedule(at("2019-10-01T00:00"), ESC, CAL, TZ)
    assert [(n.stage, n.step, n.at) for n in notices] == [
        ("remind", "responsible", at("2019-09-29T08:30")),  # Sunday 09-29 is a 调休 working day
        ("overdue", "responsible", at("2019-10-01T00:00")),  # the deadline itself (the outbox waits for office hours)
        # 10-08, the first working day after the holiday, must pass wholly before "逾期 1 个工作日"
        ("escalate", "department_contact", at("2019-10-09T08:30")),
        ("escalate", "department_leader", at("2019-10-10T08:30")),
        ("escalate", "office", at("2019-10-11T08:30")),
    ]


def test_due_notice_sends_only_the_latest_and_plans_the_next():
    due = at("2019-11-30T00:00")
    notice, next_at = due_notice(due, 0, at("2019-11-27T12:00"), ESC, CAL, TZ)
    assert notice is None and next_at == at("2019-11-28T08:30")
    # Due by the end of Friday 11-29: on Monday the task is overdue, but not yet a whole working day.
    notice, next_at = due_notice(due, 0, at("2019-12-02T10:00"), ESC, CAL, TZ)
    assert (notice.stage, notice.step, notice.level) == ("overdue", "responsible", 2)
    assert next_at == at("2019-12-03T08:30")
    notice, next_at = due_notice(due, 2, at("2019-12-03T08:30"), ESC, CAL, TZ)
    assert (notice.stage, notice.step, notice.level) == ("escalate", "department_contact", 3)
    assert workdays_overdue(due, at("2019-12-03T08:30"), CAL, TZ) == 1
    assert workdays_overdue(due, at("2019-12-02T17:00"), CAL, TZ) == 0, "Monday has not passed yet"
    assert due_notice(due, 5, at("2020-01-01T00:00"), ESC, CAL, TZ) == (None, None)


def test_a_step_whose_person_is_the_step_before_is_skipped_and_the_next_takes_its_turn():
    # A department whose contact is its administrator: the first escalation goes to its leader, on time.
    due = at("2019-11-30T00:00")
    notices = schedule(due, ESC, CAL, TZ, skip=frozenset({"department_contact"}))
    assert [(n.step, n.level, n.at) for n in notices if n.stage == "escalate"] == [
        ("department_leader", 4, at("2019-12-03T08:30")), ("office", 5, at("2019-12-04T08:30"))]
    notice, _ = due_notice(due, 2, at("2019-12-03T09:00"), ESC, CAL, TZ, skip=frozenset({"department_contact"}))
    assert (notice.step, notice.level) == ("department_leader", 4)


def test_the_campaign_sets_the_hour_reminders_and_escalations_go_out():
    notices = schedule(at("2019-11-30T00:00"), ESC, CAL, TZ, opens=time(9))
    assert [n.at.time() for n in notices if n.stage != "overdue"] == [time(9)] * 4


def test_no_reminder_when_the_task_is_shorter_than_the_warning():
    notices = schedule(at("2019-11-28T17:00"), Escalation(Rule(3, True), Rule(1, True), LADDER), CAL, TZ)
    assert notices[0].stage == "remind" and notices[0].at < at("2019-11-28T17:00")
    short = schedule(at("2019-11-28T08:00"), Escalation(Rule(0, True), Rule(1, True), LADDER), CAL, TZ)
    assert short[0].stage == "overdue"
