"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and the CLI.

PostgreSQL comes from ``SSJ_TEST_DATABASE_URL`` (default: the local server,
127.0.0.1:5432, database ``test``). Each test gets its own schema, dropped
afterwards. Where PostgreSQL is unreachable those tests skip with the reason,
except under ``CI=true``, where that fails the run.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PG_DEFAULT = "postgresql://root@127.0.0.1:5432/test"


def _pg_base_url() -> str:
    from workflow.persistence.database import normalise_url

    return normalise_url(os.environ.get("SSJ_TEST_DATABASE_URL") or PG_DEFAULT)


_pg_problem: str | None = None


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    global _pg_problem
    if _pg_problem is None:
        try:
            engine = create_engine(_pg_base_url())
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_problem = ""
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            _pg_problem = f"PostgreSQL unavailable at {_pg_base_url()}: {type(exc).__name__}: {exc}"
    return _pg_problem or None


def pytest_sessionstart(session):
    if os.environ.get("CI") == "true" and _pg_available():
        raise pytest.UsageError(f"CI=true requires PostgreSQL: {_pg_available()}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database (no schema yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ssj.db'}"
        return
    problem = _pg_available()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in _pg_base_url() else "?"
    yield f"{_pg_base_url()}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def ssj(db_url, monkeypatch, capsys, tmp_path):
    """Run the real ``ssj`` command line in-process against ``db_url``."""
    from ssj.cli import run

    monkeypatch.setenv("SSJ_DATABASE_URL", db_url)
    monkeypatch.setenv("SSJ_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.delenv("SSJ_NOW", raising=False)
    monkeypatch.setenv("SSJ_USER", "clerk@office.luquan.example")

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def ready(ssj):
    """``ssj`` on an initialised database."""
    assert ssj("init").code == 0
    return ssj


@pytest.fixture(scope="session")
def district(tmp_path_factory) -> dict[str, Path]:
    """A small example district (2,000 enterprises), generated once per session."""
    from ssj.example_district import write_example_data

    return write_example_data(tmp_path_factory.mktemp("district"), 2000, 7)


@pytest.fixture
def loaded(ready, district):
    """A database holding the small example district."""
    for kind in ("departments", "items", "officers", "enterprises"):
        result = ready("import", kind, district[kind])
        assert result.code == 0, result.err
    return ready


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every product table, to assert that a refusal changed nothing."""
    from workflow.persistence.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(t for t in inspect(conn).get_table_names() if t != "alembic_version")
            return {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr) for t in tables}
    finally:
        engine.dispose()


EXAMPLE_CAMPAIGN = Path(__file__).resolve().parents[1] / "examples" / "luquan-2019-h2.toml"


def draw_campaign(ssj, campaign: Path = EXAMPLE_CAMPAIGN, code: str = "luquan-2019-h2") -> dict:
    """Create the campaign (11-26), commit (11-27 08:30) and hold the public draw (09:00): its ``--json`` object."""
    assert ssj("campaign", "create", campaign, "--now", "2019-11-26T10:00").code == 0
    assert ssj("draw", "commit", code, "--now", "2019-11-27T08:30").code == 0
    result = ssj("draw", "run", code, "--witness", "w", "--now", "2019-11-27T09:00", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.fixture(scope="session")
def prefect_api():
    """Prefect's own API on a temporary SQLite database, started once per test session (~15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


class Inbox:
    """What a loopback SMTP server (aiosmtpd) received, parsed as people's mail clients would."""

    def __init__(self):
        self.messages = []  # (envelope recipients, EmailMessage)

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 OK"

    def subjects(self):
        return [str(m["Subject"]) for _, m in self.messages]

    def ids(self):
        return [m["Message-ID"] for _, m in self.messages]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on 127.0.0.1; ``SSJ_SMTP_HOST``/``SSJ_SMTP_PORT`` point at it."""
    from aiosmtpd.controller import Controller

    from workflow.services.outbox import SmtpConfig

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("SSJ_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SSJ_SMTP_PORT", str(controller.port))
    yield inbox, SmtpConfig("127.0.0.1", controller.port)
    controller.stop()
