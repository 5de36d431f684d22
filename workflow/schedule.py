"""The visit schedule: one joint visit per enterprise (一次性完成), in groups and vehicles per day.

Every enterprise gets one date among the working days of the visit window. A
group is one team travelling in one vehicle on one day; it visits one or more
enterprises with the same team. Per day: at most ``vehicles`` groups, no officer
in two groups, no officer over ``max_visits_per_day``. Enterprises are placed
earliest-first, grouped by team, in a fixed order, so the same teams give the
same schedule. When an enterprise cannot be placed, the schedule says why.
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


def schedule_visits(teams: dict[str, frozenset[str]], days: list[date], *, vehicles: int,
                    max_visits_per_day: int, fixed: dict[str, Slot] | None = None) -> Schedule:
    """Place each enterprise (USCC → the certificates of everyone on its team) on a day and a group.

    ``fixed`` visits were announced already: they keep their day and group and take their room.
    """
    result = Schedule()
    if not days:
        result.problems.append("实地核查期内没有工作日，无法安排")
        return result
    groups: dict[date, list[frozenset[str]]] = defaultdict(list)  # day → the team of each group
    visits: dict[tuple[date, str], int] = defaultdict(int)  # (day, officer) → visits
    busy: dict[date, dict[str, frozenset[str]]] = defaultdict(dict)  # day → officer → his group's team
    for uscc, slot in sorted((fixed or {}).items(), key=lambda kv: (kv[1].day, kv[1].group)):
        team = teams[uscc]
        while len(groups[slot.day]) < slot.group:
            groups[slot.day].append(frozenset())
        groups[slot.day][slot.group - 1] = team
        for c in team:
            visits[(slot.day, c)] += 1
            busy[slot.day][c] = team
        result.slots[uscc] = slot
    for uscc in sorted((u for u in teams if u not in result.slots), key=lambda u: (sorted(teams[u]), u)):
        team = teams[uscc]
        for day in days:
            if any(visits[(day, c)] >= max_visits_per_day for c in team):
                continue
            if team in groups[day]:
                group = groups[day].index(team) + 1
            elif len(groups[day]) < vehicles and not any(c in busy[day] for c in team):
                groups[day].append(team)
                group = len(groups[day])
            else:
                continue
            for c in team:
                visits[(day, c)] += 1
                busy[day][c] = team
            result.slots[uscc] = Slot(day, group)
            break
        else:
            result.problems.append(
                f"企业 {uscc} 无法安排：实地核查期 {days[0]} 至 {days[-1]} 的 {len(days)} 个工作日内，"
                f"每日最多 {vehicles} 组（车辆），每人每日最多 {max_visits_per_day} 户，"
                "该检查组成员已排满或当日已在其他组")
    return result
