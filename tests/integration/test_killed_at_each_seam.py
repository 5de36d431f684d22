"""The forms dispatch and the publication killed (SIGKILL) at each seam between their steps.

A kill before the commit leaves the campaign exactly as it was; the next tick (the
dispatch) or ``ssj publish`` run again (the publication) then does it all, and every
notice goes out once. A kill after the commit leaves work the next run completes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sqlalchemy import select

from tests.conftest import rows, snapshot
from tests.integration.conftest import CODE
from workflow.persistence import orm

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.stress]  # processes killed at each seam: make stress, .ci/run


def killed(what: str, seam: str, db_url: str, now: str, files: Path, out: Path | None = None) -> None:
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_NOW": now, "SSJ_FILES_DIR": str(files),
           "SSJ_OUT": str(out or "")}
    done = subprocess.run([sys.executable, "-m", "tests.integration.seams", what, seam], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, (seam, done.returncode, done.stderr[-2000:])


def test_the_forms_dispatch_killed_at_each_seam_is_done_once_by_the_next_tick(matched, db_url, smtp_server, tmp_path):
    inbox, _ = smtp_server
    ssj, sampled, teams = matched
    files = tmp_path / "files"
    before = snapshot(db_url)
    for seam in ("forms:files", "forms:scheduled", "forms:assigned"):
        killed("tick", seam, db_url, "2019-12-02T10:15+08:00", files)
        assert snapshot(db_url) == before, f"killed at {seam}: nothing was recorded"
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)["inspections"]
    assert status["confirmed"] == len(sampled) and status["assigned"] == 0

    killed("tick", "tick:stepped", db_url, "2019-12-02T10:15+08:00", files)  # after the dispatch committed
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)["inspections"]
    assert status["assigned"] == len(sampled), "committed whole: every enterprise assigned"
    assert not inbox.messages, "killed before sending: the mail waits in the outbox"

    tick = ssj("tick", CODE, "--now", "2019-12-02T10:30", "--json")
    assert tick.code == 0, tick.err
    assert "一企一表" not in tick.err, "the next tick does not dispatch again"
    officers = Counter(cert for team in teams["teams"].values() for cert, _ in team)
    forms_mail = [(to, m) for to, m in inbox.messages if str(m["Subject"]).startswith("【一企一表】")]
    assert len(forms_mail) == len({m["Message-ID"] for _, m in forms_mail}) == len(officers), "each officer once"
    emails = dict(rows(db_url, select(orm.Officer.email, orm.Officer.certificate_no)))
    for to, mail in forms_mail:
        listed = [line for line in mail.get_body().get_content().splitlines() if line.startswith("- ")]
        assert len(listed) == officers[emails[to[0]]], "the mail lists every enterprise of the officer's teams"
    assert len(list((files / CODE / "一企一表").glob("*.xlsx"))) == len(sampled)
    assert json.loads(ssj("audit", "verify", "--json").out)["ok"] is True
    again = ssj("tick", CODE, "--now", "2019-12-02T10:45", "--json")
    assert json.loads(again.out)["sent"] == 0, "nothing twice"


def test_the_publication_killed_at_each_seam_is_completed_by_running_it_again(reported, db_url, tmp_path):
    ssj, _, _, published = reported
    out = tmp_path / "公示"
    files = [out / f"{CODE}-公示信息.jsonl", out / f"{CODE}-公示信息.csv", out / f"{CODE}-检查结果公告.html",
             out / f"{CODE}-审计链头.txt"]
    before = snapshot(db_url)
    for seam in ("publish:moved", "publish:written"):
        killed("publish", seam, db_url, "2019-12-16T10:00+08:00", tmp_path / "files", out)
        assert snapshot(db_url) == before, f"killed at {seam}: nothing published"
        assert not any(path.exists() for path in files), "no public file shows a publication that did not happen"

    killed("publish", "publish:committed", db_url, "2019-12-16T10:00+08:00", tmp_path / "files", out)
    status = json.loads(ssj("campaign", "status", CODE, "--json").out)["inspections"]
    assert status["published"] == len(published), "committed: the enterprises are published"
    assert not any(path.exists() for path in files), "killed before the files were put in place"

    again = ssj("publish", CODE, "--out", out, "--now", "2019-12-16T10:30")
    assert again.code == 0, again.err
    assert f"本次公示 0 户，累计已公示 {len(published)} 户" in again.out
    records = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert sorted(r["统一社会信用代码"] for r in records) == sorted(published)
    assert all(path.exists() for path in files)
    assert json.loads(ssj("audit", "verify", "--json").out)["ok"] is True
