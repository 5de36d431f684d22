"""After the forms are out: a substitution and a withdrawal change who owes an acknowledgement, by themselves;
and writing the forms never locks the other writers out."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select

from calendars import BEIJING
from tests.conftest import rows
from tests.integration.conftest import CODE
from workflow.persistence import orm
from workflow.persistence.database import make_engine, sqlite_file


def acknowledgements(db_url) -> dict[str, str | None]:
    t = orm.TaskRow
    return dict(rows(db_url, select(t.certificate_no, t.outcome).where(t.kind == "acknowledge")))


def test_a_substitute_is_asked_and_mailed_and_the_replaced_officer_is_no_longer_chased(assigned, db_url):
    ssj, sampled, teams, out = assigned  # forms on 12-03 09:00: acknowledgements due by the end of 12-05
    once = Counter(c for team in teams["teams"].values() for c, _ in team)
    uscc, replaced = next((u, c) for u, team in teams["teams"].items() for c, _ in team if once[c] == 1)
    r = ssj("match", "replace", CODE, uscc, replaced, "--reason", "病假", "--now", "2019-12-03T11:00")
    assert r.code == 0, r.err
    substitute = r.out.split(" 由 ")[1].split("（")[0]
    acks = acknowledgements(db_url)
    assert acks[replaced] == "cancelled", "on sick leave and on no other team: nobody chases him"
    assert substitute in acks and acks[substitute] in (None, "done"), "the substitute is asked to acknowledge"
    o = orm.OutboxMessage
    mail = rows(db_url, select(o.key).where(o.kind == "forms", o.key.like(f"%|{substitute}#%")))
    assert mail, "the substitute is mailed his 一企一表 at once, not at the next ssj forms"
    assert ssj("tick", CODE, "--now", "2019-12-06T09:00", "--no-mail").code == 0
    t = orm.TaskRow
    [(level,)] = rows(db_url, select(t.escalation_level).where(t.kind == "acknowledge", t.certificate_no == replaced))
    assert level == 0, "no overdue notice, no escalation for the replaced officer"


def test_withdrawing_an_assigned_enterprise_releases_officers_left_on_no_team(assigned, db_url):
    ssj, sampled, teams, out = assigned
    once = Counter(c for team in teams["teams"].values() for c, _ in team)
    uscc = next(u for u, team in teams["teams"].items() if any(once[c] == 1 for c, _ in team))
    result = ssj("withdraw", CODE, uscc, "--reason", "企业已注销", "--now", "2019-12-04T09:00")
    assert result.code == 0, result.err
    acks = acknowledgements(db_url)
    for cert, _ in teams["teams"][uscc]:
        assert acks[cert] == ("cancelled" if once[cert] == 1 else None), cert


def test_nobody_is_locked_out_while_the_forms_are_written(matched, db_url, monkeypatch, tmp_path):
    """SQLite, the default: while ``ssj forms`` writes two files per enterprise, another writer (an officer's
    acknowledgement, the tick, the sender) does not wait for it."""
    import workflow.files.forms as forms  # what ssj forms calls, looked up when it writes

    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock; PostgreSQL locks rows")
    ssj, sampled, _ = matched
    probe = sqlite3.connect(sqlite_file(db_url), timeout=0, isolation_level=None)
    seen = []
    real = forms.write_form_docx

    def write_and_probe(form, path):
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        real(form, path)

    monkeypatch.setattr(forms, "write_form_docx", write_and_probe)
    result = ssj("forms", CODE, "--out", tmp_path / "forms", "--now", "2019-12-03T09:00")
    assert result.code == 0, result.err
    assert Counter(seen) == Counter(free=len(sampled))


def test_team_lookups_of_many_inspections_stay_inside_the_parameter_limits(ready, db_url):
    from workflow.services.uow import UnitOfWork

    engine = make_engine(db_url)
    try:
        with UnitOfWork(engine, now=datetime(2019, 12, 3, tzinfo=BEIJING), actor="ssj") as uow:
            assert uow.teams.counted(inspection_ids=list(range(70_000))) == {}
    finally:
        engine.dispose()
