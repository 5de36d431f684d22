"""What every section of the province benchmark shares: the server, the example directory, and the databases
each section starts from, built through the product itself and kept as PostgreSQL template databases.

Sizes by environment variable: ``SSJ_BENCH_ENTERPRISES`` (default 3,000,000; 100,000 for a quick run).
Server: ``SSJ_BENCH_DATABASE_URL`` (default the test server ``postgresql://root@127.0.0.1:5432/test``, a role that
may create databases). Starting points (``directory``: the example district imported by ``ssj import``;
``drawn-N%``: the seed campaign drawn at N % by ``ssj draw commit`` + ``ssj draw run``) are template databases
named ``ssj_bench_province_<size>_<stage>``, built once under an advisory lock (two sections or two benchmark
runs never build one twice) and dropped at the end of the run unless ``SSJ_BENCH_KEEP=1``
(``SSJ_BENCH_PREFIX`` renames them, so runs of different code keep apart; ``SSJ_BENCH_TEMPLATES`` names the
starting points alone, for checkouts that share them). Each measured run
works on a ``CREATE DATABASE … TEMPLATE`` copy of its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.bench_import import BENCH_CLERK, OUT
from calendars import BEIJING

ENTERPRISES = int(os.environ.get("SSJ_BENCH_ENTERPRISES", "3000000"))
ADMIN = os.environ.get("SSJ_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
KEEP = os.environ.get("SSJ_BENCH_KEEP") == "1"
PREFIX = f"{os.environ.get('SSJ_BENCH_PREFIX', 'ssj_bench_province')}_{ENTERPRISES}"
# The starting points' names (``SSJ_BENCH_TEMPLATES``, default the prefix): checkouts whose code writes the same
# starting points may share them while each works on copies of its own.
TEMPLATES = f"{os.environ.get('SSJ_BENCH_TEMPLATES') or os.environ.get('SSJ_BENCH_PREFIX', 'ssj_bench_province')}" \
    f"_{ENTERPRISES}"
CODE = "luquan-2019-h2"
COMMIT_AT = datetime(2019, 11, 27, 8, 30, tzinfo=BEIJING)
RUN_AT = datetime(2019, 11, 27, 9, 0, tzinfo=BEIJING)
CLERK = "clerk@office.luquan.example"  # one of the seed campaign's office staff
SSJ = str(Path(sys.executable).with_name("ssj"))


def url(database: str, driver: str = "postgresql") -> str:
    return make_url(ADMIN).set(drivername=driver, database=database).render_as_string(hide_password=False)


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def fresh(database: str, template: str | None = None) -> str:
    """An empty (or ``template``'s copy) database named ``database``; returns its psycopg URL."""
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    # FILE_COPY: the files copied between two checkpoints. PostgreSQL 15's default (WAL_LOG) writes the whole copy
    # through shared buffers into the WAL, which the checkpointer is still flushing while the first figures run.
    admin(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}" STRATEGY = FILE_COPY' if template else ""))
    return url(database)


def upgraded(database: str) -> None:
    """The schema brought to the checkout's (a starting point built by an earlier one; not timed)."""
    from workflow.persistence.database import make_engine, upgrade

    engine = make_engine(url(database, "postgresql+psycopg"))
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def recounted(database: str) -> None:
    """``upgraded``, and the campaign's counts recounted from its rows: what the product's own writes keep as they
    go, where a starting point's rows were moved by SQL or written before the counts were kept (not timed)."""
    from workflow.persistence.counts import recount
    from workflow.persistence.database import make_engine

    upgraded(database)
    engine = make_engine(url(database, "postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            recount(conn, CODE)
    finally:
        engine.dispose()


def drop(database: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def csv_directory() -> Path:
    """The folder ``ssj example-data --enterprises N --seed 1`` writes (cached in ``bench/out/``; run as a command:
    generating in this process would raise the peak RSS that child processes inherit at fork)."""
    data = OUT / f"district-{ENTERPRISES}"
    if not (data / "enterprises.csv").exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run([SSJ, "example-data", "--enterprises", str(ENTERPRISES), "--seed", "1", "--out", str(data)],
                       check=True, stdout=subprocess.DEVNULL)
    return data


class PeakWatch:
    """A child process's own peak RSS (MB): its ``VmHWM``, read every 50 ms until it ends. Not ``wait4``'s
    ``ru_maxrss``: Linux carries a parent's peak into a child it spawns (vfork, then exec), so a child of a
    benchmark that had read 180,000 rows reported the parent's memory, not its own."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        from bench.rounds import own_peak_mb

        while not self.done.wait(0.05):
            try:
                self.peak = max(self.peak, own_peak_mb(self.pid))
            except (OSError, StopIteration, ValueError):  # gone, or a zombie (no memory left to report)
                return

    def stop(self) -> float:
        """Called before the child is waited for (its status is readable until then): its peak."""
        self.done.set()
        self.thread.join()
        return self.peak


def ssj(database: str, *args: str, now: datetime | None = None, user: str = CLERK,
        env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """``ssj ARGS`` in its own process on ``database``: (wall seconds, its own peak RSS in MB, stdout)."""
    environment = {**os.environ, "SSJ_DATABASE_URL": url(database, "postgresql+psycopg"), "SSJ_USER": user,
                   **({"SSJ_NOW": now.isoformat()} if now else {}), **(env or {})}
    err_path = OUT / f"province-{args[0]}.err"
    with open(err_path, "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([SSJ, *args], env=environment, stdout=subprocess.PIPE, stderr=err)
        watch = PeakWatch(proc.pid)
        out = proc.stdout.read().decode()
        peak = watch.stop()
        status = proc.wait()
        elapsed = time.perf_counter() - start
        err.seek(0)
        if status != 0:
            raise SystemExit(f"ssj {' '.join(args)} failed: {err.read().decode()}{out}")
    return elapsed, peak, out.strip()


def initialised(database: str) -> None:
    """A fresh database initialised as a simulation database whose office staff includes the bench clerk."""
    from ssj.demo import simulation_database
    from workflow.persistence.database import make_engine

    fresh(database)
    engine = make_engine(url(database, "postgresql+psycopg"))
    simulation_database(engine, [BENCH_CLERK, "1qqj2463@163.com", CLERK], COMMIT_AT)
    engine.dispose()


# --- starting points ---------------------------------------------------------------------------------------

_built: list[str] = []


def template(stage: str, build) -> str:
    """The template database for ``stage`` (built by ``build(database)`` when missing); returns its name."""
    name = f"{TEMPLATES}_{re.sub(r'[^a-z0-9]+', '_', stage.lower())}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        try:
            ready = conn.execute("SELECT datistemplate FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not (ready and ready[0]):
                started = time.perf_counter()
                building = name + "_building"
                build(building)
                drop(name)
                admin(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                admin(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
                print(f"  (setup: {stage} in {time.perf_counter() - started:.1f} s)")
                _built.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
    return name


def drop_templates() -> None:
    """The run's starting points, unless ``SSJ_BENCH_KEEP=1`` keeps them for the next run."""
    if KEEP:
        return
    for name in _built:
        admin(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
        drop(name)
    _built.clear()


def directory() -> str:
    """The example district (departments, items, ``ENTERPRISES`` enterprises) imported with ``ssj import``."""
    def build(database: str) -> None:
        data = csv_directory()
        initialised(database)
        for kind in ("departments", "items", "enterprises"):
            ssj(database, "import", kind, str(data / f"{kind}.csv"), now=COMMIT_AT)
    return template("directory", build)


def campaign_source(ratio: str) -> str:
    """The seed campaign with its sample ratio set to ``ratio`` (e.g. "10%")."""
    from ssj.demo import seed_campaign_source

    source = seed_campaign_source()
    changed = re.sub(r'^ratio = "[^"]*"', f'ratio = "{ratio}"', source, count=1, flags=re.M)
    if changed == source:
        raise SystemExit("the seed campaign has no ratio line to change")
    return changed


def party_items() -> tuple[list[str], list[str]]:
    """The seed campaign's draw parties with fixed secrets: (``--commitment`` items, ``--reveal`` items)."""
    from bench.bench_draw import party_items as items

    return items()


def campaign(database: str, ratio: str) -> None:
    """The seed campaign at ``ratio`` created in ``database`` (``ssj campaign create``)."""
    path = OUT / f"province-campaign-{ratio.rstrip('%')}.toml"
    path.write_text(campaign_source(ratio), encoding="utf-8")
    ssj(database, "campaign", "create", str(path), now=COMMIT_AT)


def draw(database: str) -> tuple[float, float, str]:
    """``ssj draw commit`` + ``ssj draw run`` of the campaign in ``database``: (seconds, peak RSS MB, run's output)."""
    commitments, reveals = party_items()
    first, rss1, _ = ssj(database, "draw", "commit", CODE, *[a for c in commitments for a in ("--commitment", c)],
                         now=COMMIT_AT)
    second, rss2, said = ssj(database, "draw", "run", CODE, "--witness", "见证人 2019-11-27",
                             *[a for r in reveals for a in ("--reveal", r)], now=RUN_AT)
    return first + second, max(rss1, rss2), said


def drawn(ratio: str) -> str:
    """The directory with the seed campaign drawn at ``ratio`` and dispatched (what ``ssj draw run`` does)."""
    base = directory()

    def build(database: str) -> None:
        fresh(database, base)
        upgraded(database)  # a directory kept from an earlier checkout
        campaign(database, ratio)
        draw(database)
    return template(f"drawn {ratio}", build)


def sha256_lines(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def line(label: str, seconds: float, floor: float | None = None, *, rss: float | None = None,
         target: float = 2) -> str:
    """One printed figure: seconds, and its ratio to ``floor`` (with the target) or its peak RSS."""
    said = f"  {label.ljust(64)} : {seconds:8.2f} s"
    if floor:
        said += f"  ({seconds / floor:.2f}x the floor, target ≤ {target:g}x)"
    if rss is not None:
        said += f"  peak RSS {rss:.0f} MB"
    return said


def copy_into_floor_tables(conn, written: dict) -> None:
    """``written`` (table → (columns, rows)) COPYed into the scratch tables ``floor_<table>``: a floor's writes."""
    with conn.cursor() as cursor:
        for table, (columns, rows) in written.items():
            with cursor.copy(f"COPY floor_{table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def lists_again(folder: Path, out: Path) -> tuple[float, int]:
    """The product's lists (the XLSX files of ``folder``) read back, then written again by a bare write-only loop:
    (seconds, files)."""
    from openpyxl import Workbook, load_workbook

    lists = []
    for path in sorted(folder.glob("*.xlsx")):
        book = load_workbook(path, read_only=True)
        lists.append((path.name, [sheet.title for sheet in book.worksheets],
                      [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]))
        book.close()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name, titles, sheets in lists:
        book = Workbook(write_only=True)
        for title, rows in zip(titles, sheets):
            sheet = book.create_sheet(title)
            if title == "ssj":
                sheet.sheet_state = "hidden"
            for row in rows:
                sheet.append(row)
        book.save(out / name)
    return time.perf_counter() - start, len(lists)
