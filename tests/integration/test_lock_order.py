"""People's commands while four ticks run: no deadlock reaches anyone, every notice once, every chain valid.

Issue 14, case 3: on PostgreSQL ``ssj confirm import`` while four ``ssj tick`` ran
ended in "deadlock detected" (the import held the campaign's chain head and waited
for a task row a tick held; the tick waited for the head). Here every
department's ``confirm import``, a withdrawal, ``match run`` and ``publish`` run
as processes of their own together with four ticks: ten rounds (three on SQLite), each one stage
of a campaign's life (answers, officer draw, publication) with a withdrawal, a
fresh campaign every three; on PostgreSQL and on SQLite. One process costs
about 0.7 s of CPU to start, hence a stage per round rather than the whole life.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import make_url, select

from tests.conftest import CLERK, EXAMPLE_CAMPAIGN, draw_campaign, rows
from tests.integration.conftest import DEPARTMENTS, HEADER, WITNESS, Parties
from tests.integration.test_concurrent_ticks import WORKERS, started
from workflow.mail import NOT_NEEDED
from workflow.persistence import orm

pytestmark = [pytest.mark.slow, pytest.mark.stress]  # ten rounds of processes: make stress, .ci/run

ROUNDS = {"postgresql": 10, "sqlite": 3}  # SQLite's writers are serial (no lock order to break): a round per stage
INSPECTING = ("SJ", "SW")
ITEMS = ("SJ-01", "SJ-02", "SJ-03", "SW-01")  # what SJ and SW inspect in the seed campaign


def at_once(db_url: str, files: Path, when: str, code: str, *commands: tuple) -> list[tuple[tuple, int, str, str]]:
    """Four ``ssj tick`` and ``commands``, each a process of its own, started together: (command, rc, out, err)."""
    everything = [("tick", code, "--json")] * WORKERS + list(commands)
    procs = [started(db_url, files, when, *args) for args in everything]
    done = [(args, p.communicate(timeout=600)) for args, p in zip(everything, procs)]
    finished = [(args, p.returncode, out, err) for (args, (out, err)), p in zip(done, procs)]
    failed = [(" ".join(map(str, args[:2])), rc, err[-2000:]) for args, rc, _, err in finished if rc != 0]
    assert not failed, f"at {when} every command done (a deadlock or a busy database never reaches anyone): {failed}"
    return finished


def answer_files(folder: Path, code: str, sampled: list[str]) -> list[Path]:
    """One 比对确认 file per department: SJ and SW inspect every enterprise, the others decline."""
    paths = []
    for dept in DEPARTMENTS:
        path = folder / f"{code}-{dept}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([HEADER] + [[code, dept, u, "是" if dept in INSPECTING else "否",
                                                  "" if dept in INSPECTING else "不涉及"] for u in sampled])
        paths.append(path)
    return paths


@dataclass
class Campaign:
    """A fresh campaign of the test, drawn: its code, the enterprises drawn, later the teams."""

    code: str
    sampled: list[str]
    teams: dict = field(default_factory=dict)

    def withdraw(self, stage: int) -> tuple:
        """The office withdraws one enterprise at each stage (a different one each time)."""
        return "withdraw", self.code, self.sampled[stage], "--reason", "企业已注销", "--user", CLERK


def drawn(ssj, tmp_path: Path, number: int) -> Campaign:
    code = f"lock-{number:02d}"
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace('code = "luquan-2019-h2"', f'code = "{code}"', 1)
    (tmp_path / f"{code}.toml").write_text(source.replace('ratio = "1%"', 'ratio = "2%"'), encoding="utf-8")
    return Campaign(code, draw_campaign(ssj, tmp_path / f"{code}.toml", code)["sampled"])


def answers(ssj, db_url: str, tmp_path: Path, c: Campaign) -> list:
    """Every department's file (the enterprise withdrawn meanwhile left out) imported while the ticks run."""
    files = answer_files(tmp_path, c.code, [u for u in c.sampled if u != c.sampled[0]])
    return at_once(db_url, tmp_path / "files", "2019-11-28T15:00", c.code, c.withdraw(0), *(
        ("confirm", "import", path, "--user", f"contact@{path.stem.split('-')[-1].lower()}.luquan.example")
        for path in files))


def officer_draw(ssj, db_url: str, tmp_path: Path, c: Campaign) -> list:
    """The public officer draw (the parties' commitments recorded once the confirmations closed) while the ticks run."""
    assert ssj("tick", c.code, "--now", "2019-12-02T09:00").code == 0  # the office asked for the commitments
    parties = Parties.fresh()
    assert ssj("match", "commit", c.code, *parties.commitments(), "--now", "2019-12-02T09:10").code == 0
    finished = at_once(db_url, tmp_path / "files", "2019-12-02T10:00", c.code, c.withdraw(1),
                       ("match", "run", c.code, *parties.reveals(), "--witness", WITNESS, "--json", "--user", CLERK))
    c.teams = next(json.loads(out) for args, _, out, _ in finished if args[:2] == ("match", "run"))["teams"]
    return finished


def publication(ssj, db_url: str, tmp_path: Path, c: Campaign) -> list:
    """One enterprise back-filled, then the publication while the ticks run."""
    assert ssj("tick", c.code, "--now", "2019-12-03T09:00").code == 0  # the forms dispatched, if no tick did yet
    published = c.sampled[3]
    team = ",".join(cert for cert, _ in c.teams[published])
    assert ssj("results", "visit", c.code, published, "--date", "2019-12-10", "--officers", team,
               "--signature", "签字", "--now", "2019-12-10T17:00").code == 0
    for item in ITEMS:
        assert ssj("results", "record", c.code, published, "--item", item, "--result", "1",
                   "--now", "2019-12-11T10:00").code == 0
    return at_once(db_url, tmp_path / "files", "2019-12-11T10:30", c.code, c.withdraw(2),
                   ("publish", c.code, "--out", tmp_path / c.code, "--user", CLERK))


STAGES = (answers, officer_draw, publication)  # a campaign's stages, one per round; then a fresh campaign


def test_peoples_commands_while_four_ticks_run_never_deadlock(loaded, db_url, smtp_server, tmp_path):
    inbox, _ = smtp_server
    finished, campaign = [], None
    count = ROUNDS[make_url(db_url).get_backend_name()]
    for round_ in range(count):
        stage = round_ % len(STAGES)
        if stage == 0:
            campaign = drawn(loaded, tmp_path, round_ // len(STAGES))
        finished += STAGES[stage](loaded, db_url, tmp_path, campaign)
    assert loaded("tick", campaign.code, "--now", "2019-12-11T11:00").code == 0  # sends what the last acts queued
    assert not [err for *_, err in finished if "数据库" in err or "deadlock" in err]
    rounds = Counter(STAGES[r % len(STAGES)] for r in range(count))
    assert Counter(args[0] for args, *_ in finished) == Counter({
        "tick": WORKERS * count, "withdraw": count, "confirm": len(DEPARTMENTS) * rounds[answers],
        "match": rounds[officer_draw], "publish": rounds[publication]})
    i = orm.InspectionRow
    states = Counter(state for (state,) in rows(db_url, select(i.state)))
    assert states["withdrawn"] == count and states["published"] == rounds[publication], states

    # every notice queued once, sent once, under one Message-ID; audited once
    o = orm.OutboxMessage
    # (a reminder digest whose every task a department's answer closed before it went is set aside, 无需发送)
    queued = rows(db_url, select(o.key, o.message_id, o.sent_at).where(o.state != NOT_NEEDED))
    unsent = rows(db_url, select(o.key, o.state, o.not_before, o.claimed_by, o.attempts, o.last_error)
                  .where(o.sent_at.is_(None), o.state != NOT_NEEDED))
    assert queued and not unsent, ("every queued message sent", unsent)
    ids = inbox.ids()
    assert len(ids) == len(set(ids)) == len(queued), "each message delivered once, under one Message-ID"
    assert set(ids) == {m for _, m, _ in queued}, "none set aside was delivered"
    noticed = Counter((n[0], n[4]) for (payload,) in rows(db_url, select(orm.AuditEvent.payload)
                                                          .where(orm.AuditEvent.action == "notices"))
                      for n in json.loads(payload)["notices"])
    assert noticed and set(noticed.values()) == {1}, "each task's notice at each level audited once"
    verified = loaded("audit", "verify", "--json")
    assert verified.code == 0 and json.loads(verified.out)["ok"] is True
