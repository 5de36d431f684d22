"""Issue 14, case 7: the verify commands run on an auditor's read-only copy of the database, and write nothing.

On SQLite the copy is a file its reader may not write (mode 0444, in a folder it may not write), checked by a
separate ``ssj`` process: as root (who may write anything) that process runs as ``nobody``, so the file really
is read-only to it. On PostgreSQL a session with ``default_transaction_read_only`` stands for the copy.
A command that needs to write says the database is read-only (exit 1) and changes nothing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.integration.conftest import CODE

pytestmark = pytest.mark.stress  # an auditor's read-only copies, each a whole campaign: make stress

VERIFY = (("audit", "verify"), ("draw", "verify", CODE), ("match", "verify", CODE))
READ_ONLY = "是只读的（如审计用的副本）：本命令需要写入，未作任何更改"
NOBODY = 65534


def _auditors_copy(db_url: str, folder: Path, *, folder_read_only: bool) -> Path:
    """A consistent copy (SQLite's backup: still in WAL mode, no -wal or -shm beside it), mode 0444."""
    copy = folder / "auditor.db"
    source, target = sqlite3.connect(make_url(db_url).database), sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    copy.chmod(0o444)
    folder.chmod(0o555 if folder_read_only else 0o755)
    return copy


def _ssj_reading(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """``ssj *args`` in a process of its own that may not write ``copy`` (as ``nobody`` when the suite is root)."""
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
    if as_nobody and shutil.which("setpriv") is None:
        pytest.fail("running as root: setpriv (util-linux) is needed to read the copy as another user")
    env = {**os.environ, "SSJ_DATABASE_URL": f"sqlite:///{copy}", "SSJ_USER": "auditor@office.luquan.example",
           "HOME": str(copy.parent), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("SSJ_NOW", None)
    return subprocess.run([*as_nobody, sys.executable, "-c",
                           "import sys; from ssj.cli import run; sys.exit(run(sys.argv[1:]))", *args],
                          cwd=copy.parent, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("folder_read_only", [True, False], ids=["read-only-folder", "read-only-file"])
def test_verify_commands_run_on_a_read_only_sqlite_copy(matched, db_url, folder_read_only):
    if make_url(db_url).get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL copy is a read-only session: test_verify_commands_run_in_a_read_only_session")
    folder = Path(tempfile.mkdtemp(prefix="ssj-auditor-"))  # outside pytest's 0700 tree, so nobody may read it
    try:
        copy = _auditors_copy(db_url, folder, folder_read_only=folder_read_only)
        before = copy.read_bytes()
        for args in VERIFY:
            result = _ssj_reading(copy, *args)
            assert result.returncode == 0, (args, result.stderr)
            assert "无法连接数据库" not in result.stderr and "内部错误" not in result.stderr
        assert "全部" in _ssj_reading(copy, "audit", "verify").stdout
        refused = _ssj_reading(copy, "tick", CODE, "--now", "2019-12-02T11:00")
        assert refused.returncode == 1 and READ_ONLY in refused.stderr, refused.stderr
        assert copy.read_bytes() == before  # nothing written: not a refusal audited, not a migration
        if folder_read_only:  # opened immutable: not even SQLite's -shm beside it
            assert [p.name for p in folder.iterdir()] == ["auditor.db"]
        assert stat.S_IMODE(copy.stat().st_mode) == 0o444
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
    ssj = matched[0]
    assert ssj("audit", "verify").code == 0  # the original is untouched and still writable
    assert ssj("tick", CODE, "--now", "2019-12-02T11:00", "--no-mail").code == 0


def test_verify_commands_run_in_a_read_only_session(matched, db_url, monkeypatch):
    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("the SQLite copy is a read-only file: test_verify_commands_run_on_a_read_only_sqlite_copy")
    ssj = matched[0]
    url = make_url(db_url).update_query_dict({"options": "-c default_transaction_read_only=on"})
    monkeypatch.setenv("SSJ_DATABASE_URL", url.render_as_string(hide_password=False))
    for args in VERIFY:
        result = ssj(*args)
        assert result.code == 0 and result.out.strip().splitlines()[-1].startswith(("一致", "全部")), (args, result.err)
    refused = ssj("tick", CODE, "--now", "2019-12-02T11:00")
    assert refused.code == 1 and READ_ONLY in refused.err, refused.err
    monkeypatch.setenv("SSJ_DATABASE_URL", db_url)
    assert ssj("audit", "verify").code == 0
    assert ssj("tick", CODE, "--now", "2019-12-02T11:00", "--no-mail").code == 0
