"""Who acts and when: simulation and real databases, the staff directory, acting on a department's behalf.

On a real database the operating-system account running ``ssj`` (its uid) is the
actor, mapped through the staff directory, and a change happens at the machine's
clock; on a simulation database (the rest of the suite) ``--now`` and ``--user``
are played. The uid test runs ``ssj`` as ``nobody`` on PostgreSQL, so file
permissions play no part and only the uid can decide.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import CLERK, EXAMPLE_CAMPAIGN, draw_campaign, rows, snapshot
from workflow.persistence import orm

CODE = "luquan-2019-h2"
CONTACT_SJ = "contact@sj.luquan.example"
NOBODY = 65534


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _real_database(ssj, monkeypatch, *, staff_account: str | None = None):
    """``ssj init`` (a real database, administered by this process's account), optionally CLERK as staff run by
    ``staff_account``; ``$SSJ_USER`` unset, as on an office's machine."""
    assert ssj("init").code == 0
    if staff_account is not None:
        added = ssj("staff", "add", CLERK, "--name", "办公室文员", "--os-account", staff_account)
        assert added.code == 0, added.err
    monkeypatch.delenv("SSJ_USER")


def test_init_fixes_the_kind_once_and_records_the_administrator(ssj, db_url):
    assert ssj("init", "--simulation").code == 0
    settings = dict(rows(db_url, select(orm.DatabaseSetting.key, orm.DatabaseSetting.value)))
    assert settings["simulation"] == "true" and settings["administrator"] == _me() and settings["initialised_at"]
    before = snapshot(db_url)
    refused = ssj("init")
    assert refused.code == 2 and "模拟数据库" in refused.err and "不能改为正式数据库" in refused.err
    assert snapshot(db_url) == before
    again = ssj("init", "--simulation")
    assert again.code == 0 and "已是最新版本" in again.out
    if make_url(db_url).get_backend_name() == "sqlite":  # people's data: the owner alone reads the file
        assert stat.S_IMODE(Path(make_url(db_url).database).stat().st_mode) == 0o600


def test_a_real_database_refuses_a_claimed_instant_for_changes_but_answers_as_of_one(ssj, db_url, district,
                                                                                    monkeypatch):
    _real_database(ssj, monkeypatch, staff_account=_me())
    before = snapshot(db_url)
    claimed = ssj("import", "departments", district["departments"], "--now", "2019-11-01T09:00")
    assert claimed.code == 2 and "正式数据库" in claimed.err and "--now" in claimed.err
    monkeypatch.setenv("SSJ_NOW", "2019-11-01T09:00")
    from_env = ssj("import", "departments", district["departments"])
    assert from_env.code == 2 and "--now" in from_env.err
    assert snapshot(db_url) == before, "nothing changed"
    assert ssj("audit", "verify").code == 0, "a question may ask as of an instant"
    monkeypatch.delenv("SSJ_NOW")
    done = ssj("import", "departments", district["departments"])
    assert done.code == 0, done.err
    [(actor, at)] = rows(db_url, select(orm.AuditEvent.actor, orm.AuditEvent.occurred_at)
                         .where(orm.AuditEvent.action != "staff_added"))
    assert actor == CLERK and at.year >= 2026, "the staff member the account maps to, at the machine's clock"


def test_a_real_database_refuses_a_typed_actor(ssj, db_url, district, monkeypatch):
    _real_database(ssj, monkeypatch, staff_account=_me())
    typed = ssj("import", "departments", district["departments"], "--user", CLERK)
    assert typed.code == 2 and "--on-behalf-of" in typed.err
    monkeypatch.setenv("SSJ_USER", CLERK)
    from_env = ssj("import", "departments", district["departments"])
    assert from_env.code == 2 and "SSJ_USER" in from_env.err
    assert rows(db_url, select(orm.Department.code)) == []


def test_a_real_database_refuses_an_account_outside_the_staff_directory(ssj, db_url, district, monkeypatch):
    _real_database(ssj, monkeypatch)
    refused = ssj("import", "departments", district["departments"])
    assert refused.code == 2 and f"操作系统账户“{_me()}”不在办公室人员名录中" in refused.err
    assert rows(db_url, select(orm.Department.code)) == []


def test_flows_refuse_a_simulated_instant_on_a_real_database(ssj, db_url):
    from flows.common import flow_now
    from workflow.errors import UserError

    assert ssj("init").code == 0
    with pytest.raises(UserError, match="正式数据库"):
        flow_now("2019-11-27T09:00", db_url)
    assert flow_now(None, db_url).year >= 2026


def test_flows_play_a_simulated_instant_on_a_simulation_database(ready, db_url):
    from flows.common import flow_now

    assert flow_now("2019-11-27T09:00", db_url).isoformat() == "2019-11-27T09:00:00+08:00"


def test_a_department_contact_may_not_import_directories_or_create_a_campaign(loaded, db_url, district):
    before = snapshot(db_url)
    imported = loaded("import", "departments", district["departments"], "--user", CONTACT_SJ)
    assert imported.code == 2 and f"“{CONTACT_SJ}”不在办公室人员名录中" in imported.err
    created = loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--user", CONTACT_SJ, "--now", "2019-11-26T10:00")
    assert created.code == 2 and "只有领导小组办公室的工作人员可以创建抽查任务" in created.err
    reload = loaded("calendar", "reload", "--user", CONTACT_SJ)
    assert reload.code == 2
    assert snapshot(db_url) == before


def test_a_campaign_naming_someone_outside_the_staff_directory_as_office_is_refused(loaded, db_url, tmp_path):
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(source.replace('office_staff = ["1qqj2463@163.com", "clerk@office.luquan.example"]',
                                       f'office_staff = ["1qqj2463@163.com", "{CONTACT_SJ}", "x@evil.example"]'),
                        encoding="utf-8")
    before = snapshot(db_url)
    for actor in (CONTACT_SJ, CLERK):  # naming oneself does not make one the office; nor may staff name outsiders
        result = loaded("campaign", "create", campaign, "--user", actor, "--now", "2019-11-26T10:00")
        assert result.code == 2, result.err
    assert f"office_staff: “{CONTACT_SJ}”不在办公室人员名录中" in result.err
    assert "office_staff: “x@evil.example”不在办公室人员名录中" in result.err
    assert snapshot(db_url) == before


def test_an_office_clerk_acting_for_a_department_is_recorded_as_such(loaded, db_url, tmp_path):
    sampled = draw_campaign(loaded)["sampled"]
    evidence = tmp_path / "SJ比对确认.pdf"
    evidence.write_bytes(b"%PDF-1.4 stamped answer of SJ")
    answer = ("confirm", CODE, "SJ", sampled[0], "--inspect", "--now", "2019-11-28T10:00")
    wrong = loaded(*answer, "--on-behalf-of", "SW", "--reason", "电话确认")
    assert wrong.code == 2 and "不是SW的" in wrong.err
    neither = loaded(*answer, "--on-behalf-of", "SJ")
    assert neither.code == 2 and "--evidence" in neither.err
    by_contact = loaded(*answer, "--on-behalf-of", "SJ", "--reason", "x", "--user", "contact@sw.luquan.example")
    assert by_contact.code == 2 and "不在名录中" in by_contact.err, "only office staff act on a party's behalf"
    # before the department's deadline: the office conveys the department's own answer, named and grounded
    done = loaded(*answer, "--on-behalf-of", "SJ", "--evidence", evidence)
    assert done.code == 0, done.err
    reason = loaded("confirm", CODE, "SW", sampled[0], "--decline", "无涉税事项", "--now", "2019-11-28T10:05",
                    "--on-behalf-of", "SW", "--reason", "税务局联络人电话答复（2019-11-28 10:00）")
    assert reason.code == 0, reason.err
    recorded = rows(db_url, select(orm.AuditEvent.actor, orm.AuditEvent.payload)
                    .where(orm.AuditEvent.action == "answer").order_by(orm.AuditEvent.seq))
    assert [actor for actor, _ in recorded] == [CLERK, CLERK], "the person who did it"
    first, second = (json.loads(payload) for _, payload in recorded)
    assert first["on_behalf_of"] == "SJ" and first["on_behalf"] is True
    assert first["on_behalf_evidence"] == {"file": evidence.name,
                                           "sha256": hashlib.sha256(evidence.read_bytes()).hexdigest()}
    assert second["on_behalf_of"] == "SW" and second["on_behalf_reason"].startswith("税务局联络人电话答复")
    answered = rows(db_url, select(orm.InspectionDepartment.department_code, orm.InspectionDepartment.answered_by,
                                   orm.InspectionDepartment.on_behalf)
                    .where(orm.InspectionDepartment.answered_at.is_not(None)))
    assert sorted(answered) == [("SJ", CLERK, True), ("SW", CLERK, True)]


def test_campaign_status_and_reports_of_a_simulation_database_say_so(loaded, tmp_path):
    import openpyxl

    draw_campaign(loaded)
    status = loaded("campaign", "status", CODE)
    assert status.code == 0 and status.out.startswith("【模拟】")
    assert json.loads(loaded("campaign", "status", CODE, "--json").out)["simulation"] is True
    out = tmp_path / "stats.xlsx"
    assert loaded("report", "stats", CODE, "--out", out, "--now", "2019-11-28T10:00").code == 0
    cells = [c for row in openpyxl.load_workbook(out).worksheets[0].iter_rows(max_row=4, values_only=True)
             for c in row if c]
    assert any("【模拟】" in str(c) for c in cells), cells
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# --- the operating-system account decides: ssj run as nobody -------------------------------------------------------

def _as_nobody(db_url: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``ssj *args`` as uid ``nobody``: it may read the installed product (CAP_DAC_READ_SEARCH: this suite's Python
    may live under root's home) and nothing else is granted; the environment claims to be root."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("this test runs as root and needs setpriv (util-linux) to run ssj as another account")
    full = {**os.environ, "SSJ_DATABASE_URL": db_url, "USER": "root", "LOGNAME": "root", "HOME": str(cwd),
            "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    for name in ("SSJ_USER", "SSJ_NOW"):
        full.pop(name, None)
    full.update(env or {})
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
                           sys.executable, "-c", "import sys; from ssj.cli import run; sys.exit(run(sys.argv[1:]))",
                           *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300)


def test_the_uid_not_the_environment_decides_who_acts(ssj, db_url, district, monkeypatch):
    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("on PostgreSQL, where no file's permissions can decide for the uid")
    _real_database(ssj, monkeypatch)  # administered by root
    folder = Path(tempfile.mkdtemp(prefix="ssj-nobody-"))
    try:
        folder.chmod(0o755)
        departments = folder / "departments.csv"
        shutil.copyfile(district["departments"], departments)
        # nobody is not the administrator, whatever the environment says
        added = _as_nobody(db_url, folder, "staff", "add", "x@office.luquan.example", "--name", "某", "--os-account",
                           "nobody")
        assert added.returncode == 2, added.stderr
        assert "只有数据库管理员" in added.stderr and "“nobody”" in added.stderr, added.stderr
        # not yet staff: refused; once root maps nobody to the clerk, nobody acts as the clerk
        refused = _as_nobody(db_url, folder, "import", "departments", str(departments))
        assert refused.returncode == 2 and "“nobody”不在办公室人员名录中" in refused.stderr, refused.stderr
        assert ssj("staff", "add", CLERK, "--name", "办公室文员", "--os-account", "nobody").code == 0
        typed = _as_nobody(db_url, folder, "import", "departments", str(departments), env={"SSJ_USER": "root"})
        assert typed.returncode == 2 and "SSJ_USER" in typed.stderr
        done = _as_nobody(db_url, folder, "import", "departments", str(departments))
        assert done.returncode == 0, done.stderr
        mine = ssj("import", "departments", district["departments"])  # root is the administrator, not staff
        assert mine.code == 2 and f"“{_me()}”不在办公室人员名录中" in mine.err
    finally:
        shutil.rmtree(folder)
    actors = rows(db_url, select(orm.AuditEvent.action, orm.AuditEvent.actor).order_by(orm.AuditEvent.seq))
    assert actors == [("staff_added", "root"), ("directory_import", CLERK)], actors
