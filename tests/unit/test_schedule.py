"""The visit schedule: one visit each, inside the window, within officers' and vehicles' capacity."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from workflow.schedule import VEHICLE_SEATS, schedule_visits

DAYS = [date(2019, 12, 9) + timedelta(days=i) for i in range(5)]


def teams(n: int, size: int = 2, pool: int = 12) -> dict[str, frozenset[str]]:
    return {f"E{i:03d}": frozenset(f"C{(i * size + k) % pool:02d}" for k in range(size)) for i in range(n)}


def check(result, teams_, vehicles, cap):
    per_day_officer = Counter()
    crews = {}
    for uscc, slot in result.slots.items():
        assert slot.day in DAYS and 1 <= slot.group <= vehicles
        for c in teams_[uscc]:
            per_day_officer[(slot.day, c)] += 1
        crews.setdefault((slot.day, slot.group), set()).update(teams_[uscc])
    assert all(v <= cap for v in per_day_officer.values())
    assert all(len(crew) <= VEHICLE_SEATS for crew in crews.values()), "a vehicle seats seven"
    for day in DAYS:
        officers_in = [c for (d, g), crew in crews.items() if d == day for c in crew]
        assert len(officers_in) == len(set(officers_in)), "nobody in two groups a day"


def test_everyone_placed_within_capacity():
    t = teams(40)
    result = schedule_visits(t, DAYS, vehicles=4, max_visits_per_day=3)
    assert not result.problems and set(result.slots) == set(t)
    check(result, t, 4, 3)


def test_same_team_shares_a_vehicle_up_to_the_daily_cap():
    team = frozenset({"A", "B"})
    t = {f"E{i}": team for i in range(7)}
    result = schedule_visits(t, DAYS, vehicles=1, max_visits_per_day=3)
    assert not result.problems
    assert Counter(s.day for s in result.slots.values()) == {DAYS[0]: 3, DAYS[1]: 3, DAYS[2]: 1}


def test_over_capacity_says_which_enterprise_and_why():
    team = frozenset({"A", "B"})
    t = {f"E{i:02d}": team for i in range(16)}
    result = schedule_visits(t, DAYS, vehicles=4, max_visits_per_day=3)
    assert len(result.slots) == 15 and len(result.problems) == 1
    assert result.problems[0].startswith("企业 E15 无法安排：实地核查期 2019-12-09 至 2019-12-13 的 5 个工作日内")


def test_vehicles_and_seats_limit_the_groups_per_day():
    t = {f"E{i}": frozenset({f"A{i}", f"B{i}", f"C{i}", f"D{i}"}) for i in range(10)}
    result = schedule_visits(t, DAYS[:2], vehicles=3, max_visits_per_day=3)
    assert len(result.slots) == 6 and len(result.problems) == 4, "three seats left over in a car fit no team of four"
    check(result, t, 3, 3)


def test_two_small_teams_share_a_vehicle():
    t = {"E1": frozenset({"A", "B"}), "E2": frozenset({"C", "D"})}
    result = schedule_visits(t, DAYS[:1], vehicles=1, max_visits_per_day=3)
    assert not result.problems and {s.group for s in result.slots.values()} == {1}


def test_no_working_day():
    assert schedule_visits(teams(1), [], vehicles=1, max_visits_per_day=1).problems == ["实地核查期内没有工作日，无法安排"]


def test_announced_visits_keep_their_day_and_take_their_room():
    from workflow.schedule import Slot

    team = frozenset({"A", "B"})
    t = {f"E{i}": team for i in range(4)}
    result = schedule_visits(t, DAYS, vehicles=1, max_visits_per_day=3, fixed={"E3": Slot(DAYS[0], 1)})
    assert result.slots["E3"] == Slot(DAYS[0], 1)
    assert Counter(s.day for s in result.slots.values()) == {DAYS[0]: 3, DAYS[1]: 1}
