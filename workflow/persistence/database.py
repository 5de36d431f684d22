"""Engines, migrations and the "is the schema current?" check.

``SSJ_DATABASE_URL`` selects the database (default: the SQLite file ``./ssj.db``).
The schema is owned by the Alembic migrations shipped with the package; ``ssj
init`` creates or upgrades, every other command refuses to run on a database
that is missing or behind.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError

DEFAULT_URL = "sqlite:///./ssj.db"
CONNECTION_LOST = (OperationalError, InterfaceError)  # what a database that went away mid-command raises


class DatabaseNotReady(Exception):
    """The database is missing or its schema is behind the installed product."""

    message = "数据库尚未初始化或需要升级，请先运行 ssj init"

    def __str__(self) -> str:
        return self.message


class DatabaseUnreachable(DatabaseNotReady):
    """The database server cannot be reached (down, wrong address, wrong credentials): nothing was changed."""

    def __init__(self, url: str, reason: str):
        where = make_url(url).render_as_string(hide_password=True)
        self.message = (f"无法连接数据库 {where}：{reason}。本次没有作任何更改；"
                        "请检查数据库服务和 SSJ_DATABASE_URL，恢复后重新运行本命令（定时推进错过的提醒和督办，恢复后的第一次推进会补上）")


class DatabaseReadOnly(DatabaseNotReady):
    """A write on a database this process may only read (an auditor's copy): refused before anything changed."""

    def __init__(self, where: str):
        self.message = (f"数据库 {where} 是只读的（如审计用的副本）：本命令需要写入，未作任何更改；"
                        "只读数据库上可以运行 ssj audit verify、ssj draw verify 等核对命令")


def database_url(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return normalise_url(env.get("SSJ_DATABASE_URL") or DEFAULT_URL)


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3, the driver this product ships with."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below opens transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write.

    Two writers then queue (``busy_timeout``) instead of the later one failing
    with "database is locked" after it has read; a waiting writer reads the
    winner's committed state, so the loser's move is judged on fresh data.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_read_only_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def read_only_sqlite_url(path: Path) -> str | None:
    """For a file this process may not write (mode 0444, or in a folder it may not write): its ``mode=ro`` URL.

    SQLite keeps a WAL database's shared memory in ``<file>-shm`` beside it; where that file is absent and
    cannot be created, the copy is opened ``immutable`` (nobody can be writing it then), unless a ``-wal`` file
    holds pages the main file lacks — then plain ``mode=ro``, whose refusal says what is wrong."""
    if not path.exists() or (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return None
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    immutable = (not os.access(path.parent, os.W_OK) and not shm.exists()
                 and not (wal.exists() and wal.stat().st_size))
    return f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro{'&immutable=1' if immutable else ''}&uri=true"


def is_read_only(engine: Engine) -> bool:
    """An engine on a SQLite file opened ``mode=ro`` (PostgreSQL refuses writes itself: ``_refuse_writes``)."""
    return engine.dialect.name == "sqlite" and engine.url.query.get("mode") == "ro"


def _refuse_writes(engine: Engine, where: str) -> None:
    """A write attempted on a read-only database says so (DatabaseReadOnly), instead of a driver's error."""
    def on_error(context) -> None:
        original = context.original_exception
        if "readonly database" in str(original) or type(original).__name__ == "ReadOnlySqlTransaction":
            raise DatabaseReadOnly(where) from original
    event.listen(engine, "handle_error", on_error)


def _binary_lists(dbapi_connection, _record) -> None:
    """Lists go to PostgreSQL as binary arrays: a sweep's claims, levels and marks pass tens of thousands of ids
    each, and psycopg's text array dumper quotes-checks every element with a regular expression (6× slower)."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def without_jit(conn) -> None:
    """No JIT in this transaction, on PostgreSQL (``SET LOCAL``: it ends with the transaction). A screen's reads are
    aggregates of 0.1–1 s; the server compiles each one above ``jit_above_cost`` before running it — measured here at
    about 0.1 s of LLVM per aggregate over 350,000 overdue tasks, more than the compiled code saves at that size
    (the board at 250,000 inspections: 1.05 → 0.81 s)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    where = make_url(url).render_as_string(hide_password=True)
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_file(url)
        read_only = read_only_sqlite_url(path) if path is not None else None
        engine = create_engine(read_only or url)
        event.listen(engine, "connect", _sqlite_read_only_pragmas if read_only else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin if read_only else _sqlite_begin_immediate)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _binary_lists)
    _refuse_writes(engine, where)
    return engine


def sqlite_file(url: str) -> Path | None:
    u = make_url(normalise_url(url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


PRIVATE_FILE = 0o600  # the database holds people's data: its owner alone reads it


def protect_sqlite_file(url: str) -> None:
    """A SQLite database (and its ``-wal``/``-shm`` files) readable and writable by its owner only."""
    path = sqlite_file(url)
    if path is None:
        return
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.chmod(PRIVATE_FILE)


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("workflow.persistence") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_FILE = re.compile(r"(\d{4})_\w+\.py")  # versions/0011_outbox_sent_index.py: revision '0011'


def head_revision() -> str:
    """The newest migration's revision, read from the file names (``NNNN_what.py`` holds revision ``NNNN``).

    Every command checks the schema against it: listing a folder costs nothing, where Alembic's own answer
    (importing Alembic and every migration script) was a tenth of a second of each ``ssj tick``. A test holds
    the names to Alembic's head."""
    versions = resources.files("workflow.persistence") / "migrations" / "versions"
    return max(m.group(1) for entry in versions.iterdir() if (m := MIGRATION_FILE.fullmatch(entry.name)))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _recorded_revision(engine: Engine) -> str | None:
    """The version row alone (one query, no catalog reflection); None where there is none to read."""
    with engine.connect() as conn:  # an unreachable server fails here
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            if _no_such_table(exc):  # an uninitialised database
                return None
            raise  # the server went away, a lock or statement timeout …: not a schema question


def _no_such_table(exc: DBAPIError) -> bool:
    """The error says the version table is not there (PostgreSQL's undefined_table, SQLite's "no such table")."""
    if exc.connection_invalidated:
        return False
    return getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in str(exc.orig)


def _create_search_path_schema(engine: Engine) -> None:
    """On PostgreSQL, create the schema the connection's ``search_path`` names when none of it exists yet.

    The product can then share a database with Prefect's server, each in a schema of its own with its own
    ``alembic_version`` (``SSJ_DATABASE_URL=postgresql://…/db?options=-csearch_path%3Dssj``; see README)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        if conn.execute(text("SELECT current_schema()")).scalar() is not None:
            return
        path = conn.execute(text("SHOW search_path")).scalar() or ""
        names = [n.strip().strip('"') for n in path.split(",") if n.strip() and n.strip() != '"$user"']
        if names:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{names[0].replace(chr(34), "")}"'))


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema; returns (revision before, revision after)."""
    from alembic import command

    _create_search_path_schema(engine)
    before = current_revision(engine)
    command.upgrade(_alembic_config(engine), "head")
    return before, head_revision()


def first_line(exc: Exception) -> str:
    """The driver's own reason, without SQLAlchemy's statement and link lines."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0][:300]


_QUOTED_VALUE = re.compile(r'(:\s*)"[^"]*"\s*$')  # invalid input syntax for type integer: "the value"


def internal_failure(exc: Exception) -> str:
    """An unexpected error as a person is shown it: its class and message.

    For a database error, the driver's class and the first line of its reason, with a value quoted at its
    end masked: SQLAlchemy's own text adds the statement and the row's values, which may be anyone's data."""
    if not isinstance(exc, StatementError):
        return f"{type(exc).__name__}: {exc}"
    original = exc.orig if exc.orig is not None else exc
    reason = _QUOTED_VALUE.sub(r'\1"…"', first_line(exc))
    return f"{type(original).__name__}: {reason}"


def ready_engine(url: str) -> Engine:
    """An engine on a database whose schema is current, else DatabaseNotReady."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseNotReady()
    engine = make_engine(url)
    try:
        revision = _recorded_revision(engine)
    except (OperationalError, InterfaceError) as exc:  # unreachable server, wrong credentials …
        engine.dispose()
        raise DatabaseUnreachable(url, first_line(exc)) from exc
    except Exception as exc:
        engine.dispose()
        raise DatabaseNotReady() from exc
    if revision != head_revision():
        engine.dispose()
        raise DatabaseNotReady()
    return engine
