"""An in-memory unit of work: the handlers' rules tested where no SQL behaviour is under test.

``FakeUnitOfWork`` is the real ``UnitOfWork`` (moves, reactions, audit rows, mail
queuing are its code) with its transaction and repositories replaced by plain
Python: a transaction is a deep copy of the store, committed by keeping it and
rolled back by throwing it away — so "a refusal changes nothing" is testable here
too. Only the repository methods the tested handlers use exist.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from workflow.audit import GENESIS, seal_all
from workflow.inspection import SAMPLED, DepartmentAnswer, Inspection, TeamMember, Visit
from workflow.persistence.inspections import ConcurrentChange
from workflow.services.uow import UnitOfWork


@dataclass
class Store:
    """Everything the fake database holds."""

    plans: dict = field(default_factory=dict)
    departments: dict = field(default_factory=dict)  # code → row
    officers: dict = field(default_factory=dict)  # certificate → row
    enterprises: dict = field(default_factory=dict)  # uscc → row
    inspections: dict = field(default_factory=dict)  # id → row (campaign_code, uscc, state, version …)
    answers: dict = field(default_factory=dict)  # (inspection id, department) → DepartmentAnswer
    team: dict = field(default_factory=lambda: defaultdict(list))  # inspection id → [TeamMember]
    forms: set = field(default_factory=set)  # inspection ids with their 一企一表
    schedule: dict = field(default_factory=dict)  # inspection id → (planned day, group)
    visits: dict = field(default_factory=dict)  # inspection id → Visit
    results: dict = field(default_factory=lambda: defaultdict(dict))  # inspection id → {item: ItemResult}
    tasks: dict = field(default_factory=dict)  # key → row
    outbox: dict = field(default_factory=dict)  # key → Mail
    outbox_files: dict = field(default_factory=dict)  # key → [(file name, content or None)]
    not_before: dict = field(default_factory=dict)  # key → when it may go (the office's next opening)
    chains: dict = field(default_factory=lambda: defaultdict(list))  # chain → [SealedEntry]
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))


class _Inspections:
    def __init__(self, store: Store):
        self.s = store

    def add(self, code, usccs, departments, now, draw_id=None):
        added = []
        for uscc in usccs:
            iid = next(self.s.ids)
            self.s.inspections[iid] = {"campaign_code": code, "uscc": uscc, "state": SAMPLED, "version": 1,
                                       "withdraw_reason": None, "stamps": {SAMPLED: now}}
            for d in departments:
                self.s.answers[(iid, d)] = DepartmentAnswer(d, self.s.departments[d].name)
            added.append(Inspection(iid, code, uscc, SAMPLED))
        return added

    def get(self, code, uscc, *, lock=True):
        for iid, row in self.s.inspections.items():
            if (row["campaign_code"], row["uscc"]) == (code, uscc):
                return Inspection(iid, code, uscc, row["state"], row["version"], row["withdraw_reason"])
        return None

    def in_campaign(self, code, *, state=None, usccs=None):
        return [Inspection(iid, code, r["uscc"], r["state"], r["version"], r["withdraw_reason"])
                for iid, r in self.s.inspections.items()
                if r["campaign_code"] == code and state in (None, r["state"]) and (usccs is None or r["uscc"] in usccs)]

    def save(self, inspections):
        moved = [i for i in inspections if i.events]
        for i in moved:
            row = self.s.inspections[i.id]
            if row["version"] != i.version:
                raise ConcurrentChange("检查状态已被他人同时更改，本次操作未生效，请重新执行。")
            row.update(state=i.state, version=i.version + 1, withdraw_reason=i.withdraw_reason)
            row["stamps"].update({e.dest: e.at for e in i.events})
            i.version += 1
            i.events.clear()
        return len(moved)

    def answers(self, ids):
        out = defaultdict(list)
        for (iid, _), answer in sorted(self.s.answers.items()):
            if iid in ids:
                out[iid].append(answer)
        return {k: tuple(v) for k, v in out.items()}

    def record_answer(self, iid, department, inspects, reason, *, now, actor, on_behalf):
        if (iid, department) not in self.s.answers:
            return False
        old = self.s.answers[(iid, department)]
        self.s.answers[(iid, department)] = old._replace(inspects=inspects, reason="" if inspects else reason,
                                                         on_behalf=on_behalf)
        return True

    def teams(self, ids):
        return {iid: tuple(self.s.team[iid]) for iid in ids if self.s.team.get(iid)}

    def forms_generated(self, ids):
        return {iid for iid in ids if iid in self.s.forms}

    def visits(self, ids):
        return {iid: self.s.visits[iid] for iid in ids if iid in self.s.visits}

    def results(self, ids):
        return {iid: dict(self.s.results[iid]) for iid in ids if self.s.results.get(iid)}

    def store_visit(self, iid, visit: Visit, *, now, actor):
        self.s.visits[iid] = visit

    def store_result(self, iid, result, *, now, actor):
        self.s.results[iid][result.item_code] = result

    def planned(self, code, states):
        return sorted((self.s.inspections[iid]["uscc"], day, group) for iid, (day, group) in self.s.schedule.items()
                      if self.s.inspections[iid]["state"] in states)


class _Tasks:
    def __init__(self, store: Store):
        self.s = store

    def open(self, tasks, now):
        new = 0
        for t in tasks:
            if t.key not in self.s.tasks:
                self.s.tasks[t.key] = SimpleNamespace(key=t.key, kind=t.kind, inspection_id=t.inspection_id,
                                                      department_code=t.department, certificate_no=t.certificate_no,
                                                      due_at=t.due.at, provisional=t.due.provisional, done_at=None,
                                                      outcome=None)
                new += 1
        return new

    def get(self, key):
        return self.s.tasks.get(key)

    def due_at(self, key):
        task = self.s.tasks.get(key)
        return task.due_at if task else None

    def _close(self, tasks, at, outcome):
        for t in tasks:
            if t.done_at is None:
                t.done_at, t.outcome = at, outcome

    def close(self, *, inspection_id, outcome, now, kind=None, department=None):
        self._close([t for t in self.s.tasks.values() if t.inspection_id == inspection_id
                     and kind in (None, t.kind) and department in (None, t.department_code)], now, outcome)

    def close_many(self, kind, done, *, outcome):
        for iid, at in done:
            self._close([t for t in self.s.tasks.values() if t.inspection_id == iid and t.kind == kind], at, outcome)

    def close_key(self, key, *, now, outcome="done"):
        if key in self.s.tasks:
            self._close([self.s.tasks[key]], now, outcome)


class _Teams:
    def __init__(self, store: Store):
        self.s = store

    def counted(self, *, campaign_code=None, inspection_ids=None):
        return {iid: [(m.certificate_no, m.department) for m in members if not m.specialist]
                for iid, members in self.s.team.items() if inspection_ids is None or iid in inspection_ids}

    def of_campaign(self, code):
        return {self.s.inspections[iid]["uscc"]: [{"certificate_no": m.certificate_no} for m in members]
                for iid, members in self.s.team.items() if members}

    def loads(self, code, *, live=False):
        count: dict[str, int] = defaultdict(int)
        for iid, members in self.s.team.items():
            if not live or self.s.inspections[iid]["state"] != "withdrawn":
                for m in members:
                    count[m.certificate_no] += 1
        return count

    def emails(self, iid):
        return {m.certificate_no: self.s.officers[m.certificate_no].email for m in self.s.team[iid]}


class _Directory:
    def __init__(self, store: Store):
        self.s = store

    def department(self, code):
        return self.s.departments.get(code)

    def departments(self):
        return dict(self.s.departments)

    def officers(self):
        return dict(self.s.officers)

    def enterprises(self, usccs):
        return {u: self.s.enterprises[u] for u in usccs if u in self.s.enterprises}


class _Outbox:
    def __init__(self, store: Store):
        self.s = store

    def queue(self, code, sender, mails, now, files=None, *, not_before=None, secret=""):
        new = [m for m in mails if m.key not in self.s.outbox]
        self.s.not_before.update({m.key: not_before or now for m in new})
        self.s.outbox.update({m.key: m for m in new})
        self.s.outbox_files.update({k: v for k, v in (files or {}).items() if k in {m.key for m in new}})
        return len(new)


class _Audit:
    def __init__(self, store: Store):
        self.s = store

    def append(self, chain, entries):
        rows = self.s.chains[chain]
        last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
        sealed = seal_all(chain, last_seq, last_hash, list(entries))
        rows.extend(sealed)
        return sealed

    def lock_head(self, chain):
        pass  # one process, one transaction at a time


class _Campaigns:
    def __init__(self, store: Store):
        self.s = store

    def plan(self, code):
        return self.s.plans.get(code)


class _Settings:
    """The database's settings: the key of the files' tokens (fixed, as ``ssj init`` would have made one)."""

    def reply_secret(self) -> str:
        return "5e" * 32


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, store: Store, *, now: datetime, actor: str, campaign: str | None = None):
        super().__init__(None, now=now, actor=actor, campaign=campaign)
        self.store = store
        self._simulation = True  # a simulation database, as the whole suite uses

    def _begin(self) -> None:
        self._saved = self._savepoint()
        s = self.store
        self.inspections, self.tasks, self.teams = _Inspections(s), _Tasks(s), _Teams(s)
        self.directory, self.outbox, self.audit, self.campaigns = _Directory(s), _Outbox(s), _Audit(s), _Campaigns(s)
        self.settings = _Settings()
        self.conn = s  # "inside a transaction"

    def _end(self, *, commit: bool) -> None:
        self._release(self._saved, commit=commit)
        self.conn = None

    def _savepoint(self) -> dict:
        return copy.deepcopy(self.store.__dict__)

    def _release(self, saved: dict, *, commit: bool) -> None:
        if not commit:
            self.store.__dict__.clear()
            self.store.__dict__.update(saved)


def team_member(officer, specialist: bool = False) -> TeamMember:
    return TeamMember(officer.certificate_no, officer.department_code, specialist, officer.name,
                      officer.certificate_valid_until)
