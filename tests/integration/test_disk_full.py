"""Issue 14, case 7: a disk that fills up during ``ssj forms`` or ``ssj publish`` leaves no partial file.

The full disk is real to the writer: ``ssj`` runs in a child process under a file-size limit (RLIMIT_FSIZE),
so its ``write`` past the limit fails with EFBIG, as on a full disk (a tmpfs of a few KB would need root to
mount). The command exits 1 with "磁盘空间不足或文件无法写入：<path>", leaves every file whole or absent,
changes nothing in the database; run again with room, it completes.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import CLERK, snapshot
from tests.integration.conftest import CODE

pytestmark = pytest.mark.stress  # a full disk at each file write: make stress

ROOT = Path(__file__).resolve().parents[2]
NO_ROOM = "磁盘空间不足或文件无法写入："


def ssj_on_a_full_disk(db_url: str, files: Path, limit: int, *args: str) -> subprocess.CompletedProcess:
    """``ssj *args`` in a child that may write no file past ``limit`` bytes."""
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_FILES_DIR": str(files), "SSJ_USER": CLERK,
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("SSJ_NOW", None)

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # SQLite's shared-memory file is 32 KB: kept open here, the child finds it and needs not grow it.
    sqlite_file = make_url(db_url).database if make_url(db_url).get_backend_name() == "sqlite" else None
    with closing(sqlite3.connect(sqlite_file)) if sqlite_file else closing(_Nothing()) as held:
        if sqlite_file:
            held.execute("SELECT count(*) FROM campaigns").fetchall()
        return subprocess.run([sys.executable, "-c", "import sys; from ssj.cli import run; sys.exit(run(sys.argv[1:]))",
                               *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                              preexec_fn=full_disk)


class _Nothing:
    def close(self) -> None:
        pass


def whole(path: Path) -> bool:
    """A file a person can open: XLSX and DOCX are complete zip archives, text files not empty."""
    if path.suffix in (".xlsx", ".docx"):
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    return path.stat().st_size > 0


def test_forms_on_a_full_disk_leave_no_partial_file(matched, db_url, tmp_path):
    ssj, sampled, _ = matched
    out = tmp_path / "forms"
    before = snapshot(db_url)
    full = ssj_on_a_full_disk(db_url, tmp_path / "files", 30_000, "forms", CODE, "--out", str(out),
                              "--now", "2019-12-03T09:00")
    assert full.returncode == 1, full.stderr
    assert full.stderr.startswith(NO_ROOM + str(out / "一企一表")), full.stderr
    assert "内部错误" not in full.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written, "the disk filled up part of the way through"
    assert all(whole(p) for p in written), "every file on disk is whole"
    assert not [p for p in written if p.name.startswith(".") or p.suffix == ".part"], "no temporary file left"
    assert snapshot(db_url) == before, "nothing dispatched, nothing audited as refused"

    again = ssj("forms", CODE, "--out", out, "--now", "2019-12-03T09:00")  # room again: it completes
    assert again.code == 0, again.err
    forms = sorted((out / "一企一表").iterdir())
    assert len(forms) == 2 * len(sampled) and all(whole(p) for p in forms)
    assert ssj("audit", "verify").code == 0
    assert json.loads(ssj("campaign", "status", CODE, "--json").out)["inspections"]["assigned"] == len(sampled)


def test_publish_on_a_full_disk_leaves_no_empty_exchange_file(reported, db_url, tmp_path):
    ssj, _, _, published = reported
    out = tmp_path / "公示"
    before = snapshot(db_url)
    full = ssj_on_a_full_disk(db_url, tmp_path / "files", 600, "publish", CODE, "--out", str(out),
                              "--now", "2019-12-16T10:00")
    assert full.returncode == 1, full.stderr
    assert full.stderr.startswith(NO_ROOM + str(out / f"{CODE}-公示信息")), full.stderr
    assert list(out.iterdir()) == [], "no exchange file, empty or not, and no draft"
    assert snapshot(db_url) == before, "nothing published"

    again = ssj("publish", CODE, "--out", out, "--now", "2019-12-16T10:30")
    assert again.code == 0, again.err
    records = [json.loads(line) for line in (out / f"{CODE}-公示信息.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["统一社会信用代码"] for r in records) == sorted(published)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{CODE}-公示信息.jsonl", f"{CODE}-公示信息.csv", f"{CODE}-检查结果公告.html", f"{CODE}-审计链头.txt"])
    assert ssj("audit", "verify").code == 0
