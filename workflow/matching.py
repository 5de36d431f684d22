"""The officer draw and matching, algorithm ``ssj-match-v2`` (and ``ssj-match-v1``) — the second random of 双随机.

Commit (once every enterprise's confirmation is closed) fixes a snapshot, one line
per fact, sorted by code point and joined by ``\\n``:

    O\\t<certificate>\\t<department>\\t<certificate valid until>   an officer in the pool
    E\\t<USCC>\\t<department>,<department>…                        an enterprise and who inspects it
    X\\t<certificate>\\t<USCC>\\t<conflict|recent>                  a pair that must never be matched

and records each named party's commitment (``ssj-match-v2``: ``sha256`` of a 32-byte
secret the party drew on its own device), as the enterprise draw does. At the run,
every party reveals its secret and ``seed = sha256(utf8("ssj-match-v2\\n" +
snapshot_sha256 + "\\n" + P1 + "=" + s1 + "\\n" + … + Pk + "=" + sk + "\\n" + witness))``
(parties in the campaign file's order, the witness text normalised; ``ssj-match-v1``,
one office secret: ``sha256(secret_hex + "\\n" + witness + "\\n" + snapshot_sha256)``).
Then ``rank(text) = HMAC-SHA256(bytes.fromhex(seed), text)``. Enterprises are served
in order of ``rank("E\\n" + USCC)``. For each, first every inspecting department
(by code) gets ``per_department_minimum`` officers, then the team is filled to
``officers_per_enterprise`` from all its inspecting departments; each pick is the
eligible officer with the fewest teams so far, ties broken by the smallest
``rank(USCC + "\\n" + certificate)``. Eligible: in the pool of that department, not
yet on the team, no ``X`` line with the enterprise. Fewest-teams-first keeps a
department's officers within one team of each other wherever exclusions allow.
When a rule cannot be met the run names the enterprise, the department and why,
and records nothing: no rule is ever relaxed.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass, field

ALGORITHM = "ssj-match-v1"  # the office's secret alone: draws recorded so still verify
ALGORITHM_V2 = "ssj-match-v2"  # every party of the campaign's [draw] parties commits and reveals its own secret
CONFLICT = "conflict"  # declared 回避企业
RECENT = "recent"  # inspected the enterprise within the conflict window


@dataclass(frozen=True)
class PoolOfficer:
    """An officer who may be drawn: on duty, his certificate valid through the visits."""

    certificate_no: str
    department: str
    valid_until: str  # ISO date


@dataclass(frozen=True)
class Need:  # a confirmed enterprise and the departments that inspect it: each sends at least one officer
    uscc: str
    departments: tuple[str, ...]


@dataclass(frozen=True)
class Exclusion:
    """A pair never to be matched (回避)."""

    certificate_no: str
    uscc: str
    why: str  # CONFLICT | RECENT


def snapshot_text(officers: list[PoolOfficer], needs: list[Need], exclusions: list[Exclusion]) -> str:
    lines = [f"O\t{o.certificate_no}\t{o.department}\t{o.valid_until}" for o in officers]
    lines += [f"E\t{n.uscc}\t{','.join(sorted(n.departments))}" for n in needs]
    lines += [f"X\t{x.certificate_no}\t{x.uscc}\t{x.why}" for x in exclusions]
    return "\n".join(sorted(set(lines)))


def parse_snapshot(text: str) -> tuple[list[PoolOfficer], list[Need], list[Exclusion]]:
    officers, needs, exclusions = [], [], []
    for line in text.split("\n") if text else ():
        kind, *fields = line.split("\t")
        if kind == "O":
            officers.append(PoolOfficer(*fields))
        elif kind == "E":
            needs.append(Need(fields[0], tuple(fields[1].split(","))))
        elif kind == "X":
            exclusions.append(Exclusion(*fields))
    return officers, needs, exclusions


@dataclass(frozen=True)
class Member:
    certificate_no: str
    department: str
    why: str  # the eligibility, in Chinese, kept on the team row


@dataclass
class MatchResult:
    teams: dict[str, list[Member]] = field(default_factory=dict)
    shortages: list[str] = field(default_factory=list)  # Chinese, one per enterprise and department lacking officers


class _Ranker:
    def __init__(self, seed_hex: str):
        self.key = bytes.fromhex(seed_hex)

    def __call__(self, text: str) -> bytes:
        return hmac.digest(self.key, text.encode("utf-8"), "sha256")


def match(officers: list[PoolOfficer], needs: list[Need], exclusions: list[Exclusion], seed_hex: str, *,
          per_enterprise: int, per_department_minimum: int, window_days: int,
          department_names: dict[str, str] | None = None) -> MatchResult:
    names = department_names or {}
    rank = _Ranker(seed_hex)
    pool: dict[str, list[PoolOfficer]] = defaultdict(list)
    for o in officers:
        pool[o.department].append(o)
    excluded: dict[tuple[str, str], str] = {(x.certificate_no, x.uscc): x.why for x in exclusions}
    load: dict[str, int] = defaultdict(int)
    result = MatchResult()
    for need in sorted(needs, key=lambda n: rank(f"E\n{n.uscc}")):
        team: list[Member] = []
        on_team: set[str] = set()

        def candidates(departments):
            return [o for d in departments for o in pool.get(d, ())
                    if o.certificate_no not in on_team and (o.certificate_no, need.uscc) not in excluded]

        def take(candidate_list):
            best = min(candidate_list, key=lambda o: (load[o.certificate_no],
                                                     rank(f"{need.uscc}\n{o.certificate_no}")))
            lowest = min(load[o.certificate_no] for o in pool[best.department])
            why = (f"在岗；执法证有效期至 {best.valid_until}，覆盖实地核查期；未申报回避该企业；"
                   f"{window_days} 天内未检查过该企业；抽取时已承担 {load[best.certificate_no]} 户"
                   f"（本部门最少 {lowest} 户）")
            team.append(Member(best.certificate_no, best.department, why))
            on_team.add(best.certificate_no)
            load[best.certificate_no] += 1

        short = False
        for department in sorted(need.departments):
            for _ in range(per_department_minimum):
                found = candidates([department])
                if not found:
                    result.shortages.append(_shortage(need.uscc, department, names, pool, excluded, on_team,
                                                      per_department_minimum, window_days))
                    short = True
                    break
                take(found)
        while not short and len(team) < per_enterprise:
            found = candidates(sorted(need.departments))
            if not found:
                result.shortages.append(f"企业 {need.uscc}：检查组只有 {len(team)} 人，少于 {per_enterprise} 人"
                                        f"（{'、'.join(names.get(d, d) for d in sorted(need.departments))}可派的执法人员已用尽）")
                short = True
                break
            take(found)
        if not short:
            result.teams[need.uscc] = team
    return result


def _shortage(uscc, department, names, pool, excluded, on_team, minimum, window_days) -> str:
    members = pool.get(department, [])
    conflict = sum(1 for o in members if excluded.get((o.certificate_no, uscc)) == CONFLICT)
    recent = sum(1 for o in members if excluded.get((o.certificate_no, uscc)) == RECENT)
    taken = sum(1 for o in members if o.certificate_no in on_team)
    name = names.get(department, department)
    if not members:
        return (f"企业 {uscc}：{name}没有可派的执法人员（本部门没有在岗且执法证覆盖实地核查期的执法人员），"
                f"需要 {minimum} 人")
    return (f"企业 {uscc}：{name}可派的执法人员不足，需要 {minimum} 人：本部门在岗且执法证覆盖实地核查期的 "
            f"{len(members)} 人中，{conflict} 人申报回避该企业，{recent} 人 {window_days} 天内检查过该企业，"
            f"{taken} 人已在该企业检查组")
