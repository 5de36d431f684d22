"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and the CLI.

PostgreSQL comes from ``SSJ_TEST_DATABASE_URL`` (default: the local server,
127.0.0.1:5432, database ``test``): it names the server and the credentials;
each test gets a database of its own there, dropped afterwards. Where
PostgreSQL is unreachable those tests skip with the reason, except under
``CI=true``, where that fails the run.

The states most tests start from are built once per session and backend,
through the real command line, and copied per test: ``ready`` (``ssj init
--simulation``, then ``ssj staff add`` for the office staff the tests act as)
and ``loaded`` (``ready`` plus the example district imported with ``ssj
import``). On SQLite the copy is a file copy of the checkpointed template; on
PostgreSQL a ``CREATE DATABASE … TEMPLATE`` of a template database that
refuses connections, so no test can change it. A test that asks for neither
gets an empty database (no schema yet).

Later stages of a campaign (``matched``, ``assigned``, ``reported`` in
tests/integration/conftest.py) are registered with ``@stage``: each is built
once per worker and backend from the template of the stage before it, and a
test asking for one gets a copy of its database and of the folder it was built
in (the campaign file, the answers, the forms, ``files/``) in its ``tmp_path``.
Each xdist worker is a session of its own, so it builds its own templates.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from tests.mail_server_imap import dovecot, imap_account, office  # noqa: F401  (a real IMAP server: Dovecot on loopback)

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PG_DEFAULT = "postgresql://root@127.0.0.1:5432/test"
CLERK = "clerk@office.luquan.example"
# The office staff the tests act as (the example campaign's office_staff): in the templates' staff directory.
STAFF = {CLERK: ("办公室文员", "clerk"), "1qqj2463@163.com": ("封勃", "fengbo")}
DIRECTORY_KINDS = ("departments", "items", "officers", "enterprises")


def _pg_base_url() -> str:
    from workflow.persistence.database import normalise_url

    return normalise_url(os.environ.get("SSJ_TEST_DATABASE_URL") or PG_DEFAULT)


def _pg_database_url(name: str) -> str:
    """The test server's URL (credentials, options) with database ``name``."""
    return make_url(_pg_base_url()).set(database=name).render_as_string(hide_password=False)


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


def _runner(url: str, files: Path) -> Callable[..., Result]:
    """``ssj`` in-process against ``url`` as the ``ssj`` fixture runs it (its mail server down), outside any test:
    what the templates are built with."""
    from ssj.cli import run

    port = free_port()

    def call(*args) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
            mp.setenv("SSJ_DATABASE_URL", url)
            mp.setenv("SSJ_FILES_DIR", str(files))
            mp.delenv("SSJ_NOW", raising=False)
            mp.setenv("SSJ_USER", CLERK)
            mp.setenv("SSJ_SMTP_HOST", "127.0.0.1")
            mp.setenv("SSJ_SMTP_PORT", str(port))
            code = run([str(a) for a in args])
        return Result(code, out.getvalue(), err.getvalue())

    return call


def _cli(url: str, files: Path, *args) -> str:
    """``ssj *args`` in-process against ``url``, as the ``ssj`` fixture runs it; its output, or the test fails."""
    result = _runner(url, files)(*args)
    assert result.code == 0, f"ssj {' '.join(map(str, args))} exited {result.code}: {result.err}"
    return result.out


def _initialise(url: str, files: Path) -> None:
    """A simulation database (``--now`` and ``--user`` claimed) whose staff directory holds the office the tests act
    as."""
    _cli(url, files, "init", "--simulation")
    for email, (name, account) in STAFF.items():
        _cli(url, files, "staff", "add", email, "--name", name, "--os-account", account)


def directory_counts(url: str) -> dict[str, int]:
    """Rows per directory table: what ``loaded`` checks its copy against."""
    from workflow.persistence import orm
    from workflow.persistence.database import make_engine

    tables = {"departments": orm.Department, "items": orm.InspectionItem, "officers": orm.Officer,
              "enterprises": orm.Enterprise}
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {kind: conn.execute(select(func.count()).select_from(model)).scalar_one()
                    for kind, model in tables.items()}
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Stage:
    """A state tests start from, built from the template of stage ``after`` by ``build(ssj, folder, facts)``: ``ssj``
    runs the command line on the copy, ``folder`` stands for the test's ``tmp_path``, ``facts`` is what the stages
    before it returned (sampled enterprises, teams …); it returns them with its own added."""

    after: str
    build: Callable[[Callable[..., Result], Path, dict], dict]


STAGES: dict[str, Stage] = {}  # in the order registered: each after one registered before it
STAGE = pytest.StashKey[tuple[str, str]]()  # on a test's node: (backend, stage) its database was copied from


def stage(name: str, *, after: str):
    """Register ``build`` as stage ``name``: a test with a fixture called ``name`` starts from its copy."""
    def register(build):
        assert after in ("loaded", *STAGES), f"stage {name} after unknown stage {after}"
        STAGES[name] = Stage(after, build)
        return build
    return register


def stage_facts(request) -> dict:
    """What the stages the test's database was copied from returned (for the stage fixtures)."""
    return request.getfixturevalue("templates").facts[request.node.stash[STAGE]]


@dataclass
class Templates:
    """The ``ready`` and ``loaded`` databases of one session, and the registered stages, built on first use per
    backend, copied per test."""

    root: Path
    district: Callable[[], dict[str, Path]]  # the session's example district, generated on first use
    built: dict[tuple[str, str], str] = field(default_factory=dict)  # (backend, kind) -> file path or database name
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # backend -> directory rows of ``loaded``
    folders: dict[tuple[str, str], Path] = field(default_factory=dict)  # (backend, stage) -> its tmp_path stand-in
    facts: dict[tuple[str, str], dict] = field(default_factory=dict)  # (backend, stage) -> what its build returned
    pg_templates: list[str] = field(default_factory=list)
    spares: dict[str, Future] = field(default_factory=dict)  # template -> a copy being made for the next test
    _prefetch: ThreadPoolExecutor | None = None
    _admin: Engine | None = None

    # --- PostgreSQL: one connection to the server's own database for CREATE/DROP DATABASE

    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
        return self._admin

    def _pg(self, *statements: str) -> None:
        with self.admin().connect() as conn:
            for statement in statements:
                conn.execute(text(statement))

    def _seal(self, name: str) -> None:
        """No connection to the template from now on: nothing can change it, and copying it needs that anyway."""
        self._pg(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false',
                 f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    def _pg_template(self, kind: str) -> str:
        name = f"ssj_tpl_{kind}_{uuid.uuid4().hex[:10]}"
        source = "template0" if kind == "ready" else self.template("postgresql", _before(kind))
        self._pg(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        self.pg_templates.append(name)  # dropped at the end of the session, even if building it fails
        if kind == "ready":
            _initialise(_pg_database_url(name), self.root / "files")
        elif kind == "loaded":
            self._load(_pg_database_url(name), "postgresql")
        else:
            self._stage(_pg_database_url(name), "postgresql", kind)
        self._seal(name)
        return name

    def _sqlite_template(self, kind: str) -> str:
        path = self.root / f"{kind}.db"
        if kind == "ready":
            _initialise(f"sqlite:///{path}", self.root / "files")
        else:
            shutil.copyfile(self.template("sqlite", _before(kind)), path)
            if kind == "loaded":
                self._load(f"sqlite:///{path}", "sqlite")
            else:
                self._stage(f"sqlite:///{path}", "sqlite", kind)
        with sqlite3.connect(path) as conn:  # everything in the main file: a plain copy is then the whole database
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        conn.close()
        assert busy == 0, f"{path}: the WAL could not be checkpointed"
        wal = Path(f"{path}-wal")
        assert not wal.exists() or wal.stat().st_size == 0, f"{wal} still holds pages"
        return str(path)

    def _load(self, url: str, backend: str) -> None:
        district = self.district()
        for kind in DIRECTORY_KINDS:
            _cli(url, self.root / "files", "import", kind, district[kind])
        self.counts[backend] = directory_counts(url)

    def _stage(self, url: str, backend: str, kind: str) -> None:
        """Stage ``kind`` on ``url`` (a copy of the stage before it), in a folder of its own copied from that stage's."""
        before, folder = STAGES[kind].after, self.root / f"{backend}-{kind}"
        shutil.rmtree(folder, ignore_errors=True)  # left by a build that failed: the next test tries again
        if before in STAGES:
            shutil.copytree(self.folders[backend, before], folder)
        else:
            folder.mkdir()
        facts = dict(self.facts.get((backend, before), {}))
        self.facts[backend, kind] = STAGES[kind].build(_runner(url, folder / "files"), folder, facts)
        self.folders[backend, kind] = folder

    def template(self, backend: str, kind: str) -> str:
        if (backend, kind) not in self.built:
            build = self._sqlite_template if backend == "sqlite" else self._pg_template
            self.built[backend, kind] = build(kind)
        return self.built[backend, kind]

    # --- one database per test

    def sqlite_copy(self, kind: str | None, path: Path) -> str:
        if kind:
            shutil.copyfile(self.template("sqlite", kind), path)
        return f"sqlite:///{path}"

    def pg_create(self, kind: str | None) -> str:
        """A new database copied from ``kind``'s template (None: empty).

        CREATE DATABASE takes ~0.2 s, mostly the server writing and syncing files: the next test's copy is
        made in the background while this test runs (one spare per kind, each a fresh copy no test has used).
        """
        source = self.template("postgresql", kind) if kind else "template0"
        spare = self.spares.pop(source, None)
        try:
            name = spare.result() if spare else None
        except Exception:  # noqa: BLE001 - made again below, where a lasting problem fails this test
            name = None
        name = name or self._pg_copy(source)
        if self._prefetch is None:
            self._prefetch = ThreadPoolExecutor(1, thread_name_prefix="ssj-test-databases")
        self.spares[source] = self._prefetch.submit(self._pg_copy, source)
        return name

    def _pg_copy(self, source: str) -> str:
        name = f"ssj_t_{uuid.uuid4().hex[:12]}"
        self._pg(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return name

    def pg_drop(self, name: str) -> None:
        """Dropped in the background too, after the copy being made (WITH FORCE: whatever the test left open)."""
        self._prefetch.submit(self._pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.shutdown(wait=True)
        for spare in self.spares.values():
            if spare.exception() is None:
                self._pg(f'DROP DATABASE IF EXISTS "{spare.result()}" WITH (FORCE)')
        for name in reversed(self.pg_templates):
            self._pg(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false', f'DROP DATABASE "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("templates")
    built = Templates(root, lambda: request.getfixturevalue("district"))
    yield built
    built.close()


def _before(kind: str) -> str:
    """The template ``kind`` is built from."""
    return "ready" if kind == "loaded" else STAGES[kind].after


def _starting_state(request) -> str | None:
    """What the test starts from: the last registered stage among its fixtures, ``loaded``, ``ready`` or (None) an
    empty database."""
    names = request.fixturenames
    for kind in reversed(STAGES):
        if kind in names:
            return kind
    return "loaded" if "loaded" in names else "ready" if "ready" in names else None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, templates):
    """A database of the test's own on each backend: a copy of a stage, ``loaded`` or ``ready`` where the test uses
    those fixtures, else empty (no schema yet). A stage's folder is copied into ``tmp_path`` too."""
    kind = _starting_state(request)
    request.node.stash[STAGE] = None
    if request.param == "postgresql":
        problem = _pg_available()
        if problem:
            pytest.skip(problem)
    if kind in STAGES:
        templates.template(request.param, kind)  # built, and its folder with it
        shutil.copytree(templates.folders[request.param, kind], tmp_path, dirs_exist_ok=True)
        request.node.stash[STAGE] = (request.param, kind)
    if request.param == "sqlite":
        yield templates.sqlite_copy(kind, tmp_path / "ssj.db")
        return
    name = templates.pg_create(kind)
    yield _pg_database_url(name)
    templates.pg_drop(name)


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
    monkeypatch.setenv("SSJ_USER", CLERK)
    if not os.environ.get("SSJ_SMTP_HOST"):  # a mail server that is down, unless the test starts one (smtp_server)
        monkeypatch.setenv("SSJ_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SSJ_SMTP_PORT", str(free_port()))

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def ready(ssj, db_url):
    """``ssj`` on an initialised database (a copy of the session's ``ssj init`` template)."""
    from workflow.persistence.database import DatabaseNotReady, DatabaseUnreachable, ready_engine

    try:
        ready_engine(db_url).dispose()  # the schema is at the head revision
    except DatabaseUnreachable:
        raise
    except DatabaseNotReady:
        pytest.fail("db_url handed out an empty database: ask for ready or loaded as a fixture argument "
                    "(db_url copies the template it finds among the test's fixtures), not via getfixturevalue")
    return ssj


@pytest.fixture(scope="session")
def district(tmp_path_factory) -> dict[str, Path]:
    """A small example district (2,000 enterprises), generated once per session."""
    from ssj.example_district import write_example_data

    return write_example_data(tmp_path_factory.mktemp("district"), 2000, 7)


@pytest.fixture
def loaded(ready, db_url, templates):
    """A database holding the small example district (a copy of the session's imported template)."""
    counts = directory_counts(db_url)
    assert all(counts.values()) and counts == templates.counts[make_url(db_url).get_backend_name()], counts
    return ready


def rows(db_url: str, query) -> list:
    """The rows a query returns, read on a connection of its own (what another process would see)."""
    from workflow.persistence.database import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).all()
    finally:
        engine.dispose()


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


def draw_parties(campaign: Path = EXAMPLE_CAMPAIGN) -> list[str]:
    """The campaign file's ``[draw] parties``, in its order."""
    import tomllib

    return tomllib.loads(Path(campaign).read_text(encoding="utf-8"))["draw"]["parties"]


@dataclass
class Parties:
    """Each draw party's secret and commitment: what ``--commitment`` and ``--reveal`` are given."""

    secrets: dict[str, dict[str, str]]  # party → {"secret", "commitment"}

    @classmethod
    def drawn(cls, ssj, campaign: Path = EXAMPLE_CAMPAIGN) -> Parties:
        """Each party runs ``ssj draw secret --json`` (on its own device, no database)."""
        secrets = {}
        for party in draw_parties(campaign):
            result = ssj("draw", "secret", "--json")
            assert result.code == 0, result.err
            secrets[party] = json.loads(result.out)
        return cls(secrets)

    @classmethod
    def fixed(cls, campaign: Path = EXAMPLE_CAMPAIGN, salt: str = "") -> Parties:
        """Secrets derived from the party names: the same in every test that splits commit and run apart."""
        import hashlib

        secrets = {}
        for party in draw_parties(campaign):
            secret = hashlib.sha256(f"test-secret:{salt}:{party}".encode()).digest()
            secrets[party] = {"secret": secret.hex(), "commitment": hashlib.sha256(secret).hexdigest()}
        return cls(secrets)

    @classmethod
    def fresh(cls, campaign: Path = EXAMPLE_CAMPAIGN) -> Parties:
        """New random secrets, as each party's ``ssj draw secret`` makes them, without running it."""
        import hashlib
        import os

        secrets = {}
        for party in draw_parties(campaign):
            secret = os.urandom(32)
            secrets[party] = {"secret": secret.hex(), "commitment": hashlib.sha256(secret).hexdigest()}
        return cls(secrets)

    def secret(self, party: str) -> str:
        return self.secrets[party]["secret"]

    def commitment(self, party: str) -> str:
        return self.secrets[party]["commitment"]

    def commitments(self) -> list[str]:
        """``--commitment PARTY=HEX`` for every party (``draw commit`` / ``match commit``)."""
        return [a for party, s in self.secrets.items() for a in ("--commitment", f"{party}={s['commitment']}")]

    def reveals(self, *, without: tuple[str, ...] = ()) -> list[str]:
        """``--reveal PARTY=HEX`` for every party but ``without`` (``draw run`` / ``match run``)."""
        return [a for party, s in self.secrets.items() if party not in without
                for a in ("--reveal", f"{party}={s['secret']}")]


def commit_draw_args(code: str, campaign: Path = EXAMPLE_CAMPAIGN, salt: str = "") -> list[str]:
    """``draw commit CODE --commitment …`` with ``Parties.fixed``: for tests whose subject is not the draw."""
    return ["draw", "commit", code, *Parties.fixed(campaign, salt).commitments()]


def run_draw_args(code: str, campaign: Path = EXAMPLE_CAMPAIGN, salt: str = "") -> list[str]:
    """``draw run CODE --reveal …`` with ``Parties.fixed`` (add ``--witness``)."""
    return ["draw", "run", code, *Parties.fixed(campaign, salt).reveals()]


def draw_campaign(ssj, campaign: Path = EXAMPLE_CAMPAIGN, code: str = "luquan-2019-h2") -> dict:
    """Create the campaign (11-26); each party draws its secret (``ssj draw secret``); commit their commitments
    (11-27 08:30) and hold the public draw with their reveals (09:00): its ``--json`` object."""
    assert ssj("campaign", "create", campaign, "--now", "2019-11-26T10:00").code == 0
    parties = Parties.drawn(ssj, campaign)
    committed = ssj("draw", "commit", code, *parties.commitments(), "--now", "2019-11-27T08:30")
    assert committed.code == 0, committed.err
    result = ssj("draw", "run", code, *parties.reveals(), "--witness", "w", "--now", "2019-11-27T09:00", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.fixture(scope="session")
def prefect_api():
    """Prefect's own API on a temporary SQLite database, started once per test session (~15 s): its URL.

    Flows in this process use it; a process this suite starts (``ssj demo``) is pointed at it with
    ``PREFECT_API_URL`` instead of starting a temporary server of its own. The generous start-up time
    is for a loaded machine.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


class Inbox:
    """What a loopback SMTP server (aiosmtpd) received, parsed as people's mail clients would. It offers PIPELINING
    as the servers offices use do (Postfix, Exim, the big mail providers); ``pipelining=False`` for one that does
    not (aiosmtpd reads pipelined commands in order either way)."""

    pipelining = True

    def __init__(self):
        self.messages = []  # (envelope recipients, EmailMessage)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

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


@contextlib.contextmanager
def serve_smtp(handler, monkeypatch):
    """A real SMTP server on 127.0.0.1 run by ``handler`` (an aiosmtpd handler); ``SSJ_SMTP_HOST``/``SSJ_SMTP_PORT``
    point at it. Yields its ``SmtpConfig``."""
    from aiosmtpd.controller import Controller

    from workflow.services.outbox import SmtpConfig

    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("SSJ_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SSJ_SMTP_PORT", str(controller.port))
    try:
        yield SmtpConfig("127.0.0.1", controller.port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on 127.0.0.1 that accepts everything: (its ``Inbox``, its ``SmtpConfig``)."""
    inbox = Inbox()
    with serve_smtp(inbox, monkeypatch) as config:
        yield inbox, config


def pytest_itemcollected(item):
    """Under ``pytest -n 2`` (``make test``), tests that share one expensive thing run on the same worker: the
    Prefect server (started once per worker that needs it) and the benchmarks (they share ``bench/out``). Marked as
    each test is collected, so xdist's loadgroup finds the group whatever the order of the collection hooks (marked in
    ``pytest_collection_modifyitems`` it was read too late, and two workers each started a Prefect server)."""
    if "prefect_api" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.xdist_group("prefect"))
    elif item.path.name == "test_benchmarks.py":
        item.add_marker(pytest.mark.xdist_group("bench"))


def pytest_collection_modifyitems(config, items):
    """The slow tests are handed out first (longest first is what keeps two workers busy to the end), the rest in file
    order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
