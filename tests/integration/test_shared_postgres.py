"""The product and Prefect's server in one PostgreSQL database, each in a schema of its own.

Both keep an ``alembic_version`` table; in one schema they would read each other's. The product's schema is
chosen by ``search_path`` in ``SSJ_DATABASE_URL`` (psycopg's ``options``), Prefect's by
``PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH`` (asyncpg's ``server_settings``) — README,
"Scale out".
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CLERK, EXAMPLE_CAMPAIGN, STAFF, _pg_available, _pg_base_url, _pg_database_url, free_port

BIN = Path(sys.executable).parent
DIRECTORY_KINDS = ("departments", "items", "officers", "enterprises")


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database, dropped afterwards."""
    problem = _pg_available()
    if problem:
        pytest.skip(problem)
    admin = create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
    name = f"ssj_shared_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ssj_url(name: str, schema: str = "ssj") -> str:
    """The product's URL: psycopg takes ``options=-csearch_path=<schema>`` from the query string."""
    return f"{_pg_database_url(name)}?options=-csearch_path%3D{schema}"


def run_ssj(url: str, files: Path, *args) -> str:
    """``ssj *args`` in-process against ``url``; what it printed (stdout and stderr), or the test fails."""
    from ssj.cli import run

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.setenv("SSJ_DATABASE_URL", url)
        mp.setenv("SSJ_FILES_DIR", str(files))
        mp.setenv("SSJ_USER", CLERK)
        mp.delenv("SSJ_NOW", raising=False)
        code = run([str(a) for a in args])
    assert code == 0, f"ssj {' '.join(map(str, args))} exited {code}: {err.getvalue()}"
    return out.getvalue() + err.getvalue()


def add_staff(url: str, files: Path) -> None:
    """The office staff the campaign names, in the staff directory (as the test templates have them)."""
    for email, (name, account) in STAFF.items():
        run_ssj(url, files, "staff", "add", email, "--name", name, "--os-account", account)


def tables_by_schema(name: str) -> dict[str, set[str]]:
    engine = create_engine(_pg_database_url(name))
    try:
        with engine.connect() as conn:
            found = conn.execute(text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).all()
    finally:
        engine.dispose()
    by_schema: dict[str, set[str]] = {}
    for schema, table in found:
        by_schema.setdefault(schema, set()).add(table)
    return by_schema


def scalar(name: str, query: str):
    engine = create_engine(_pg_database_url(name))
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar()
    finally:
        engine.dispose()


def test_ssj_init_creates_its_own_schema_and_leaves_public_empty(fresh_database, district, tmp_path):
    url = ssj_url(fresh_database)
    assert "数据库已创建" in run_ssj(url, tmp_path, "init", "--simulation")
    assert "数据库已是最新版本" in run_ssj(url, tmp_path, "init", "--simulation")  # a second init finds its own alembic_version
    add_staff(url, tmp_path)
    for kind in DIRECTORY_KINDS:
        run_ssj(url, tmp_path, "import", kind, district[kind])
    run_ssj(url, tmp_path, "campaign", "create", EXAMPLE_CAMPAIGN)

    schemas = tables_by_schema(fresh_database)
    assert set(schemas) == {"ssj"}, schemas  # nothing in public
    assert {"alembic_version", "campaigns", "enterprises", "audit_events"} <= schemas["ssj"]
    assert scalar(fresh_database, "SELECT count(*) FROM ssj.enterprises") == 2000
    assert "luquan-2019-h2" in run_ssj(url, tmp_path, "campaign", "status", "luquan-2019-h2")


@pytest.mark.live
def test_prefect_and_ssj_share_one_database_in_separate_schemas(fresh_database, district, tmp_path):
    admin = create_engine(_pg_database_url(fresh_database), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE SCHEMA prefect"))  # Prefect does not create the schema it is pointed at
    admin.dispose()
    prefect_env = {**os.environ,
                   "PREFECT_HOME": str(tmp_path / "prefect-home"),
                   "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_API_DATABASE_CONNECTION_URL":
                       _pg_database_url(fresh_database).replace("postgresql+psycopg://", "postgresql+asyncpg://"),
                   "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH": "prefect"}

    def prefect_upgrade() -> str:
        done = subprocess.run([str(BIN / "prefect"), "server", "database", "upgrade", "-y"], env=prefect_env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    prefect_upgrade()
    url = ssj_url(fresh_database)
    assert "数据库已创建" in run_ssj(url, tmp_path, "init", "--simulation")  # not fooled by Prefect's alembic_version
    assert "数据库已是最新版本" in run_ssj(url, tmp_path, "init", "--simulation")
    add_staff(url, tmp_path)
    for kind in DIRECTORY_KINDS:
        run_ssj(url, tmp_path, "import", kind, district[kind])
    prefect_revision = scalar(fresh_database, "SELECT version_num FROM prefect.alembic_version")
    prefect_upgrade()  # again, after the product's migrations: still its own revision, nothing of ours touched

    flow_id = prefect_server_creates_a_flow(prefect_env, tmp_path / "server.log")
    assert scalar(fresh_database, f"SELECT name FROM prefect.flow WHERE id = '{flow_id}'") == "共用数据库"

    schemas = tables_by_schema(fresh_database)
    assert set(schemas) == {"prefect", "ssj"}, schemas  # public stays empty
    assert {"alembic_version", "flow_run", "deployment", "artifact", "automation"} <= schemas["prefect"]
    assert {"alembic_version", "campaigns", "enterprises", "tasks"} <= schemas["ssj"]
    assert not schemas["prefect"] & (schemas["ssj"] - {"alembic_version"})
    assert scalar(fresh_database, "SELECT version_num FROM prefect.alembic_version") == prefect_revision
    assert scalar(fresh_database, "SELECT version_num FROM ssj.alembic_version") != prefect_revision
    assert scalar(fresh_database, "SELECT count(*) FROM ssj.enterprises") == 2000


def prefect_server_creates_a_flow(env: dict[str, str], log: Path) -> str:
    """The server itself (asyncpg, search_path from its setting) on the shared database: a flow created
    through its API; returns the flow's id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/api"
    with open(log, "wb") as sink:
        server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    if json.loads(response.read()) is True:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "the Prefect server did not start: " + log.read_text(errors="replace")[-2000:]
            time.sleep(1)
        request = urllib.request.Request(f"{base}/flows/", data=json.dumps({"name": "共用数据库"}).encode(),
                                         headers={"content-type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["id"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
