"""A campaign's audit chain replayed: what its tables must hold, and where they differ.

The chain records every act that writes an inspection — drawn and dispatched,
each department's answer, the teams (drawn, replaced, a specialist added), the
visit, each item's result, every move of the state machine (withdrawal and
publication included) — with what it wrote. Replaying the rows in order gives, per
enterprise, the values the tables must hold now (``replay``); ``compare`` sets them
beside what the tables hold (read by ``persistence.audit_replay`` into the same
shape) and names every difference by enterprise, table and field. An edit made in
SQL without a matching audit row — a result code, a state, an answer — is found,
however well the chain's own hashes are kept.

A field an older row did not record (written before its payload carried it) is not
compared: ``UNRECORDED``. Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from workflow.audit import BEIJING
from workflow.results import COUNTED, ItemResult, counted_as

SAMPLE, ANSWER, VISIT, RESULT, FORMS = "sampled", "answer", "visit", "result", "forms"
MATCH_RUN, MATCH_REPLACE, SPECIALIST = "match_run", "match_replace", "specialist"
STAMPS = ("sampled", "confirmed", "assigned", "inspected", "reported", "published", "withdrawn")


def replayed_actions() -> frozenset[str]:
    """The actions (besides the machine's moves) whose rows the replay reads."""
    return frozenset({SAMPLE, ANSWER, VISIT, RESULT, FORMS, MATCH_RUN, MATCH_REPLACE, SPECIALIST})


class _Unrecorded:
    def __repr__(self) -> str:
        return "UNRECORDED"


UNRECORDED: Any = _Unrecorded()  # a value the trail does not say: not compared


class Row(NamedTuple):
    """One audit row as the replay reads it (payload parsed)."""

    action: str
    uscc: str | None
    to_state: str | None
    at: datetime
    payload: dict


class Answer(NamedTuple):
    inspects: bool | None
    reason: str | None
    on_behalf: bool | Any


class Member(NamedTuple):
    department: str | Any
    specialist: bool
    released: bool
    substitute_for: str | None | Any


@dataclass
class Result:
    codes: frozenset[str]
    handling: frozenset[int]
    finding: str | None
    questions: int | Any
    method: str | None | Any = UNRECORDED
    handling_note: str | None | Any = UNRECORDED
    counted: tuple[bool, ...] | Any = UNRECORDED  # what the statistics table counts it for (``results.COUNTED``)


@dataclass
class Visit:
    day: date | None  # None: officers present are stored without a visit
    signature: str | None
    note: str | None
    officers: frozenset[str]


@dataclass
class Enterprise:
    """What the tables hold (or must hold) for one enterprise of the campaign."""

    state: str
    stamps: dict[str, datetime] = field(default_factory=dict)  # state → the instant it was reached
    withdraw_reason: str | None = None
    answers: dict[str, Answer] = field(default_factory=dict)  # department → its answer (None: not yet)
    team: dict[str, Member] = field(default_factory=dict)  # certificate number → member, released ones too
    visit: Visit | None = None
    results: dict[str, Result] = field(default_factory=dict)  # item → result
    planned: tuple[date, int, datetime] | None | Any = None  # the visit schedule: day, group, forms generated at


def _text(value: Any) -> str | None:
    """Text as a table keeps it: empty is NULL."""
    if value is UNRECORDED:
        return value
    return (value or "").strip() or None


def _members(team: Iterable) -> Iterator[tuple[str, str]]:
    for m in team:
        yield (m["certificate_no"], m["department"]) if isinstance(m, dict) else (m[0], m[1])


def replay(rows: Iterable[Row]) -> dict[str, Enterprise]:
    """Per USCC, what the chain says the tables hold now (rows in sequence order)."""
    out: dict[str, Enterprise] = {}
    for row in rows:
        p = row.payload
        if row.action == SAMPLE and row.uscc:
            e = out[row.uscc] = Enterprise(row.to_state or "sampled", {"sampled": row.at})
            e.answers = {d: Answer(None, None, False) for d in p.get("departments", ())}
            continue
        if row.action == FORMS:
            schedule = p.get("schedule")
            for uscc, e in out.items():  # a forms row before the schedule was recorded: not compared from then on
                if schedule is None:
                    e.planned = UNRECORDED
                elif uscc in schedule:
                    e.planned = (date.fromisoformat(schedule[uscc][0]), int(schedule[uscc][1]), row.at)
            continue
        if row.action == MATCH_RUN:
            for uscc, team in (p.get("teams") or {}).items():
                if uscc in out:
                    for cert, dept in _members(team):
                        out[uscc].team[cert] = Member(dept, False, False, None)
            continue
        e = out.get(row.uscc) if row.uscc else None
        if e is None:
            continue
        if row.to_state and row.action != SAMPLE:  # a move of the machine (its trigger is the action)
            e.state = row.to_state
            e.stamps[row.to_state] = row.at
            if "reason" in p and row.to_state == "withdrawn":
                e.withdraw_reason = _text(p["reason"])
        elif row.action == ANSWER:
            inspects = bool(p.get("inspects"))
            e.answers[p["department"]] = Answer(inspects, None if inspects else _text(p.get("reason")),
                                                bool(p["on_behalf"]) if "on_behalf" in p else UNRECORDED)
        elif row.action == MATCH_REPLACE:
            old = e.team.get(p["replaced"])
            if old is not None:
                e.team[p["replaced"]] = old._replace(released=True)
            e.team[p["substitute"]] = Member(p.get("department", UNRECORDED), False, False, p["replaced"])
        elif row.action == SPECIALIST:
            e.team[p["certificate_no"]] = Member(p.get("department", UNRECORDED), True, False, None)
        elif row.action == VISIT:
            e.visit = Visit(date.fromisoformat(p["date"]), _text(p.get("signature")), _text(p.get("note")),
                            frozenset(p.get("officers", ())))
        elif row.action == RESULT:
            codes, handling = frozenset(p.get("codes", ())), frozenset(int(h) for h in p.get("handling", ()))
            e.results[p["item"]] = Result(codes, handling, _text(p.get("finding")), p.get("questions", UNRECORDED),
                                          _text(p.get("method", UNRECORDED)), _text(p.get("handling_note", UNRECORDED)),
                                          counted_as(ItemResult(p["item"], codes, handling=handling)))
    return out


@dataclass(frozen=True)
class Difference:
    """Where a table differs from the trail: the enterprise, the table and field, the key within it."""

    uscc: str
    table: str
    field: str
    recorded: str  # what the trail says, as people read it
    stored: str  # what the table holds
    key: str = ""  # the department, officer or item the row is about

    def line(self, name: str) -> str:
        key = f"（{self.key}）" if self.key else ""
        return (f"企业 {self.uscc}（{name}）：表 {self.table} 字段 {self.field}{key}："
                f"审计记录为 {self.recorded}，数据库中为 {self.stored}")


def shown(value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return f"{value.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}"
    if isinstance(value, (set, frozenset)):
        return "、".join(sorted(map(str, value))) if value else "（无）"
    return str(value)


def compare(recorded: dict[str, Enterprise], stored: dict[str, Enterprise]) -> list[Difference]:
    """Every difference between the replayed trail and the tables, enterprise by enterprise (in USCC order)."""
    out: list[Difference] = []
    for uscc in sorted(set(recorded) | set(stored)):
        r, s = recorded.get(uscc), stored.get(uscc)
        if r is None:
            out.append(Difference(uscc, "inspections", "uscc", "没有该企业", f"有（状态 {s.state}）"))
            continue
        if s is None:
            out.append(Difference(uscc, "inspections", "uscc", f"有（状态 {r.state}）", "没有该企业"))
            continue
        if r != s:  # the common case, equal, is one comparison of plain values
            out.extend(_differences(uscc, r, s))
    return out


def _differences(uscc: str, r: Enterprise, s: Enterprise) -> Iterator[Difference]:
    def differ(table: str, name: str, a: Any, b: Any, key: str = "") -> Iterator[Difference]:
        if a is not UNRECORDED and a != b:
            yield Difference(uscc, table, name, shown(a), shown(b), key)

    yield from differ("inspections", "state", r.state, s.state)
    for state in STAMPS:
        yield from differ("inspections", f"{state}_at", r.stamps.get(state), s.stamps.get(state))
    yield from differ("inspections", "withdraw_reason", r.withdraw_reason, s.withdraw_reason)
    if r.planned is not UNRECORDED:
        a, b = r.planned or (None, None, None), s.planned or (None, None, None)
        yield from differ("inspections", "planned_visit_on", a[0], b[0])
        yield from differ("inspections", "visit_group", a[1], b[1])
        yield from differ("inspections", "forms_generated_at", a[2], b[2])
    def pairs(recorded: dict, stored: dict, table: str, field: str, present: str, absent: str):
        """(key, recorded, stored) for each key both sides hold; a key only one side holds is a difference."""
        for key in sorted(set(recorded) | set(stored)):
            a, b = recorded.get(key), stored.get(key)
            if a is None or b is None:
                missing.append(Difference(uscc, table, field, present if a else absent, present if b else absent, key))
            else:
                yield key, a, b

    missing: list[Difference] = []
    for dept, a, b in pairs(r.answers, s.answers, "inspection_departments", "department_code", "派发", "未派发"):
        yield from differ("inspection_departments", "inspects", a.inspects, b.inspects, dept)
        yield from differ("inspection_departments", "decline_reason", a.reason, b.reason, dept)
        yield from differ("inspection_departments", "on_behalf", a.on_behalf, b.on_behalf, dept)
    for cert, a, b in pairs(r.team, s.team, "team_members", "certificate_no", "在检查组", "不在检查组"):
        yield from differ("team_members", "department_code", a.department, b.department, cert)
        yield from differ("team_members", "specialist", a.specialist, b.specialist, cert)
        yield from differ("team_members", "released_at", "已替换" if a.released else "未替换",
                          "已替换" if b.released else "未替换", cert)
        yield from differ("team_members", "substitute_for", a.substitute_for, b.substitute_for, cert)
    rv, sv = r.visit, s.visit
    if rv is None or sv is None:
        if rv is not sv:
            yield Difference(uscc, "inspections", "visit_date", shown(rv.day if rv else None),
                             shown(sv.day if sv else None))
            if sv is not None and sv.officers:
                yield Difference(uscc, "visit_officers", "certificate_no", "（无）", shown(sv.officers))
    else:
        yield from differ("inspections", "visit_date", rv.day, sv.day)
        yield from differ("inspections", "visit_signature", rv.signature, sv.signature)
        yield from differ("inspections", "visit_note", rv.note, sv.note)
        yield from differ("visit_officers", "certificate_no", rv.officers, sv.officers)
    for item, a, b in pairs(r.results, s.results, "item_results", "item_code", "已回填", "未回填"):
        yield from differ("result_codes", "code", a.codes, b.codes, item)
        yield from differ("result_handlings", "handling", a.handling, b.handling, item)
        yield from differ("item_results", "finding", a.finding, b.finding, item)
        yield from differ("item_results", "questions", a.questions, b.questions, item)
        yield from differ("item_results", "method", a.method, b.method, item)
        yield from differ("item_results", "handling_note", a.handling_note, b.handling_note, item)
        if a.counted is not UNRECORDED and b.counted is not UNRECORDED:
            for name, x, y in zip(COUNTED, a.counted, b.counted):
                yield from differ("item_results", name, x, y, item)
    yield from missing  # a dispatch, a team member or an item result only one side holds
