"""``ssj-match-v1``: rules never relaxed, balanced load, the reasons given when a pool is too small."""

from __future__ import annotations

from collections import Counter

from workflow.matching import (CONFLICT, RECENT, Exclusion, Need, PoolOfficer, match, parse_snapshot,
                               snapshot_text)

SEED = "c0ffee" * 10 + "c0ff"
NAMES = {"SJ": "区市场监管局", "SW": "区税务局"}


def pool(dept: str, n: int) -> list[PoolOfficer]:
    return [PoolOfficer(f"{dept}{i:03d}", dept, "2023-05-28") for i in range(1, n + 1)]


def run(officers, needs, exclusions=(), per_enterprise=2, per_department=1):
    return match(officers, needs, list(exclusions), SEED, per_enterprise=per_enterprise,
                 per_department_minimum=per_department, window_days=365, department_names=NAMES)


def test_every_team_meets_the_rules_and_loads_stay_within_one():
    officers = pool("SJ", 7) + pool("SW", 4)
    needs = [Need(f"E{i:02d}", ("SJ", "SW") if i % 3 else ("SJ",)) for i in range(30)]
    result = run(officers, needs, per_enterprise=3)
    assert not result.shortages and len(result.teams) == 30
    for need in needs:
        team = result.teams[need.uscc]
        assert len(team) == 3 and len({m.certificate_no for m in team}) == 3
        for dept in need.departments:
            assert sum(1 for m in team if m.department == dept) >= 1
        assert {m.department for m in team} <= set(need.departments)
        assert all("在岗" in m.why and "未申报回避" in m.why for m in team)
    loads = Counter(m.certificate_no for team in result.teams.values() for m in team)
    for dept in ("SJ", "SW"):
        counts = [loads[o.certificate_no] for o in officers if o.department == dept]
        assert max(counts) - min(counts) <= 1, (dept, counts)


def test_exclusions_are_never_broken():
    officers = pool("SJ", 3)
    exclusions = [Exclusion("SJ001", "E1", CONFLICT), Exclusion("SJ002", "E1", RECENT)]
    result = run(officers, [Need("E1", ("SJ",))], exclusions, per_enterprise=2)
    assert result.teams == {} and result.shortages == [
        "企业 E1：检查组只有 1 人，少于 2 人（区市场监管局可派的执法人员已用尽）"]


def test_a_department_without_eligible_officers_is_named_with_why():
    officers = pool("SJ", 4) + pool("SW", 2)
    exclusions = [Exclusion("SW001", "E1", CONFLICT), Exclusion("SW002", "E1", RECENT)]
    result = run(officers, [Need("E1", ("SJ", "SW")), Need("E2", ("SJ", "SW"))], exclusions)
    assert "E2" in result.teams and "E1" not in result.teams
    assert result.shortages == ["企业 E1：区税务局可派的执法人员不足，需要 1 人：本部门在岗且执法证覆盖实地核查期的 2 人中，"
                                "1 人申报回避该企业，1 人 365 天内检查过该企业，0 人已在该企业检查组"]


def test_an_empty_department_pool_is_named():
    result = run(pool("SJ", 3), [Need("E1", ("SJ", "SW"))])
    assert result.shortages == ["企业 E1：区税务局没有可派的执法人员（本部门没有在岗且执法证覆盖实地核查期的执法人员），需要 1 人"]


def test_a_tight_pool_is_used_exactly():
    officers = pool("SJ", 2)
    result = run(officers, [Need(f"E{i}", ("SJ",)) for i in range(5)])
    assert not result.shortages
    assert all({m.certificate_no for m in t} == {"SJ001", "SJ002"} for t in result.teams.values())


def test_per_department_minimum_above_the_pool_fails():
    result = run(pool("SJ", 5) + pool("SW", 1), [Need("E1", ("SJ", "SW"))], per_department=2)
    assert len(result.shortages) == 1 and "区税务局可派的执法人员不足，需要 2 人" in result.shortages[0]


def test_the_snapshot_round_trips_and_the_result_is_deterministic():
    officers = pool("SJ", 5) + pool("SW", 3)
    needs = [Need("E1", ("SW", "SJ")), Need("E2", ("SJ",))]
    exclusions = [Exclusion("SJ001", "E2", CONFLICT)]
    text = snapshot_text(officers, needs, exclusions)
    assert text.split("\n") == sorted(text.split("\n")) and "E\tE1\tSJ,SW" in text
    back = parse_snapshot(text)
    assert sorted(back[0], key=str) == sorted(officers, key=str) and back[2] == exclusions
    first = run(*back)
    assert first.teams == run(*parse_snapshot(text)).teams
    other = match(*back, "00" * 32, per_enterprise=2, per_department_minimum=1, window_days=365)
    assert all(m.certificate_no != "SJ001" for m in first.teams["E2"] + other.teams["E2"])
