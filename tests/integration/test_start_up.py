"""What starting ``ssj`` costs (issue 19: an idle tick under a second, start-up included): each command loads
what it uses. ``ssj --help`` loads no database layer; a tick with nothing to make loads no spreadsheet or
document writer and no Alembic (the schema check reads the version row). In a child process, as cron runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CLERK
from tests.integration.conftest import CODE

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "psycopg", "alembic", "openpyxl", "docx", "jinja2", "prefect")
LOADED = f"""import json, sys
from ssj.cli import run
code = run(sys.argv[1:])
print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]), file=sys.stderr)"""


def _loaded(db_url: str, *args: str) -> tuple[int, list[str]]:
    """``ssj *args`` in a child: its exit code and which of ``HEAVY`` it imported."""
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_USER": CLERK}
    env.pop("SSJ_NOW", None)
    done = subprocess.run([sys.executable, "-c", LOADED, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return code, modules


def test_help_loads_no_database_layer(db_url):
    assert _loaded(db_url, "--help") == (0, [])


def test_an_idle_tick_loads_no_file_writer_and_no_alembic(assigned, db_url):
    """The forms went out on 2019-12-03; a tick the next morning has nothing to write (the mail stays queued)."""
    code, modules = _loaded(db_url, "tick", CODE, "--no-mail", "--now", "2019-12-04T09:00")
    assert code == 0
    assert "sqlalchemy" in modules and not {"alembic", "openpyxl", "docx", "prefect"} & set(modules)
