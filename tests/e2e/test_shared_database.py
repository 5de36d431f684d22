"""The product and a Prefect server in one PostgreSQL database, on separate schemas (README "Scale out").

Both keep an ``alembic_version`` table; Prefect's role has ``search_path = prefect`` in that database, so
its tables, its ``alembic_version`` and the ``pg_trgm`` functions its indexes use live in the schema
``prefect``, and the product's in ``public``: neither migration sees the other's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import _pg_available, _pg_base_url, free_port
from tests.e2e.test_serving_live import wait_for

pytestmark = [pytest.mark.live, pytest.mark.slow]
BIN = Path(sys.executable).parent


@pytest.fixture
def shared(tmp_path):
    """A fresh database with the schema ``prefect`` owned by a role of its own: (product URL, Prefect URL)."""
    if _pg_available():
        pytest.skip(_pg_available())
    suffix = uuid.uuid4().hex[:8]
    database, role = f"ssj_shared_{suffix}", f"prefect_{suffix}"
    admin = create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'prefect'"))
    product_url = make_url(_pg_base_url()).set(database=database)
    in_db = create_engine(product_url, isolation_level="AUTOCOMMIT")
    with in_db.connect() as conn:  # what the README tells the DBA to run once
        conn.execute(text(f"CREATE SCHEMA prefect AUTHORIZATION {role}"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA prefect"))
        conn.execute(text(f"ALTER ROLE {role} IN DATABASE {database} SET search_path = prefect"))
    in_db.dispose()
    prefect_url = product_url.set(drivername="postgresql+asyncpg", username=role, password="prefect")
    yield (product_url.render_as_string(hide_password=False), prefect_url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


def test_the_product_and_prefect_share_one_postgresql_database_on_separate_schemas(shared, tmp_path):
    import httpx

    product_url, prefect_url = shared
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_DATABASE_CONNECTION_URL": prefect_url, "PREFECT_API_URL": api,
           "SSJ_DATABASE_URL": product_url, "SSJ_USER": "clerk@office.luquan.example"}
    init = subprocess.run([str(BIN / "ssj"), "init"], env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr  # the product first: its alembic_version in public
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=(tmp_path / "server.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        def healthy():
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return server.poll() is not None
        wait_for("the Prefect server on the shared database", healthy, timeout=180)
        assert server.poll() is None, (tmp_path / "server.log").read_text(encoding="utf-8")
        # Prefect works (a deployment written and read back), and so does the product, after Prefect migrated
        deployed = subprocess.run([str(BIN / "ssj"), "deploy", "--pool", "shared", "--no-mail"], env=env,
                                  capture_output=True, text=True, timeout=300)
        assert deployed.returncode == 0, deployed.stderr
        assert "已注册部署 ssj-tick/巡查（工作池 shared）" in deployed.stdout
        again = subprocess.run([str(BIN / "ssj"), "audit", "verify"], env=env, capture_output=True, text=True,
                               timeout=120)
        assert again.returncode == 0, again.stderr
    finally:
        server.terminate()
        server.wait(60)
    engine = create_engine(make_url(product_url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        versions = {schema: conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version")).scalar()
                    for schema in ("public", "prefect")}
        tables = dict(conn.execute(text("SELECT table_name, table_schema FROM information_schema.tables "
                                        "WHERE table_schema IN ('public', 'prefect')")).all())
    engine.dispose()
    assert versions["public"].startswith("00") and versions["prefect"] and versions["prefect"] != versions["public"]
    assert tables["deployment"] == "prefect" and tables["flow_run"] == "prefect", "Prefect's tables in its schema"
    assert tables["campaigns"] == "public" and tables["outbox"] == "public", "the product's in public"
