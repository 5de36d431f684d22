"""The visit schedule: one joint visit per enterprise (一次性完成), in groups and vehicles per day.

Every enterprise gets one date among the working days of the visit window. A
group is one vehicle on one day with the officers it carries (at most
``VEHICLE_SEATS``); it visits the enterprises whose whole team rides in it. Per
day: at most ``vehicles`` groups, no officer in two groups, no officer on more
than ``max_visits_per_day`` visits. Enterprises are placed earliest-first, grouped
by team, in a fixed order, so the same teams give the same schedule. When an
enterprise cannot be placed, the schedule says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Slot:
    day: date
    group: int  # 1 … vehicles, within the day


@dataclass
class Schedule:
    slots: dict[str, Slot] = field(default_factory=dict)  # USCC → its visit
    problems: list[str] = field(default_factory=list)


VEHICLE_SEATS = 7  # officers per vehicle: a 7-seat 公务用车 (the campaign file gives how many vehicles, not their size)


def schedule_visits(teams: dict[str, frozenset[str]], days: list[date], *, vehicles: int,
                    max_visits_per_day: int, fixed: dict[str, Slot] | None = None) -> Schedule:
    """Place each enterprise (USCC → the certificates of everyone on its team) on a day and a group.

    ``fixed`` visits were announced already: they keep their day and group and take their room.
    """
    result = Schedule()
    if not days:
        result.problems.append("实地核查期内没有工作日，无法安排")
        return result
    groups: dict[date, list[set[str]]] = defaultdict(list)  # day → the officers riding in each group
    visits: dict[tuple[date, str], int] = defaultdict(int)  # (day, officer) → visits

    def place(uscc: str, day: date, group: int) -> None:
        crew = groups[day][group - 1]
        crew |= teams[uscc]
        for c in teams[uscc]:
            visits[(day, c)] += 1
        result.slots[uscc] = Slot(day, group)

    for uscc, slot in sorted((fixed or {}).items(), key=lambda kv: (kv[1].day, kv[1].group)):
        while len(groups[slot.day]) < slot.group:
            groups[slot.day].append(set())
        place(uscc, slot.day, slot.group)
    for uscc in sorted((u for u in teams if u not in result.slots), key=lambda u: (sorted(teams[u]), u)):
        team = teams[uscc]
        for day in days:
            if any(visits[(day, c)] >= max_visits_per_day for c in team):
                continue
            riding = {c: n for n, crew in enumerate(groups[day], start=1) for c in crew}
            their_groups = {riding[c] for c in team if c in riding}
            if len(their_groups) > 1:
                continue  # the team is split across vehicles that day
            if their_groups:
                group = their_groups.pop()
                if len(groups[day][group - 1] | team) > VEHICLE_SEATS:
                    continue
            elif len(groups[day]) < vehicles:
                groups[day].append(set())
                group = len(groups[day])
            else:
                fits = [n for n, crew in enumerate(groups[day], start=1) if len(crew | team) <= VEHICLE_SEATS]
                if not fits:
                    continue
                group = fits[0]
            place(uscc, day, group)
            break
        else:
            result.problems.append(
                f"企业 {uscc} 无法安排：实地核查期 {days[0]} 至 {days[-1]} 的 {len(days)} 个工作日内，"
                f"每日最多 {vehicles} 组（车辆，每车 {VEHICLE_SEATS} 人），每人每日最多 {max_visits_per_day} 户，"
                "该检查组成员已排满或当日分在不同车辆")
    return result
