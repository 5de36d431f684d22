"""Province scale on PostgreSQL (issue 19): ``ssj import enterprises`` of a province's directory vs ``COPY``.

Sizes by environment variable: ``SSJ_BENCH_ENTERPRISES`` (default 3,000,000; 100,000 for a quick run).
Server: ``SSJ_BENCH_DATABASE_URL`` (default the test server ``postgresql://root@127.0.0.1:5432/test``, a role
that may create databases); the benchmark creates a database of its own and drops it at the end.

Import — product: the installed ``ssj import enterprises`` in its own process on a fresh, initialised
database, of the file ``ssj example-data --enterprises N`` writes (cached in ``bench/out/``): wall time and
that process's peak RSS (``wait4``; it runs first, so the parent it forked from is still small). Floor, in
the same run and database: psycopg's ``COPY … FROM STDIN (FORMAT csv)`` of the same file into a table of the
same columns and types with the same unique index on the USCC, committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.bench_import import BENCH_CLERK, OUT
from calendars import BEIJING

ENTERPRISES = int(os.environ.get("SSJ_BENCH_ENTERPRISES", "3000000"))
ADMIN = os.environ.get("SSJ_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
DATABASE = "ssj_bench_province"
COLUMNS = ("uscc", "name", "category", "kind", "registered_capital", "established_on", "status", "district",
           "address", "legal_representative", "phone", "industry", "credit_risk")


def _url(database: str, driver: str = "postgresql") -> str:
    return make_url(ADMIN).set(drivername=driver, database=database).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _csv_file() -> Path:
    """``ssj example-data --enterprises N --seed 1`` (run as a command: generating in this process would raise
    the peak RSS the import's child process inherits at fork)."""
    data = OUT / f"district-{ENTERPRISES}"
    path = data / "enterprises.csv"
    if not path.exists():
        ssj = str(Path(sys.executable).with_name("ssj"))
        subprocess.run([ssj, "example-data", "--enterprises", str(ENTERPRISES), "--seed", "1", "--out", str(data)],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def _initialised() -> str:
    from ssj.demo import simulation_database
    from workflow.persistence.database import make_engine

    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    url = _url(DATABASE, "postgresql+psycopg")
    engine = make_engine(url)
    simulation_database(engine, [BENCH_CLERK], datetime.now(BEIJING))  # the import runs as an office clerk
    engine.dispose()
    return url


def _product(url: str, path: Path) -> tuple[float, float, str]:
    ssj = str(Path(sys.executable).with_name("ssj"))
    env = {**os.environ, "SSJ_DATABASE_URL": url, "SSJ_USER": BENCH_CLERK}
    err_path = OUT / "province-import.err"
    with open(err_path, "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([ssj, "import", "enterprises", str(path)], env=env, stdout=subprocess.PIPE,
                                stderr=err)
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"ssj import failed: {err.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, out.strip()


def _copy_floor(path: Path) -> float:
    with psycopg.connect(_url(DATABASE)) as conn:
        conn.execute(f"CREATE TABLE floor_enterprises AS SELECT {', '.join(COLUMNS)} FROM enterprises WITH NO DATA")
        conn.execute("CREATE UNIQUE INDEX floor_enterprises_uscc ON floor_enterprises (uscc)")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY floor_enterprises ({', '.join(COLUMNS)}) "
                                            "FROM STDIN (FORMAT csv, HEADER true)") as copy, open(path, "rb") as fh:
            if fh.read(3) != b"\xef\xbb\xbf":
                fh.seek(0)
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM floor_enterprises").fetchone()[0]
    if rows != ENTERPRISES:
        raise SystemExit(f"COPY floor loaded {rows:,} rows, expected {ENTERPRISES:,}")
    return elapsed


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"province: {ENTERPRISES:,} enterprises on PostgreSQL ({make_url(ADMIN).host})")
    path = _csv_file()
    print(f"  file: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    url = _initialised()
    try:
        product, rss, said = _product(url, path)
        print(f"  {said}")
        floor = _copy_floor(path)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    print(f"  floor, COPY of the CSV into a same-shaped table, unique USCC : {floor:7.2f} s")
    print(f"  ssj import enterprises (validated, all-or-nothing)           : {product:7.2f} s")
    print(f"  ratio: {product / floor:.2f}x (target ≤ 2x)")
    print(f"  peak RSS of ssj import: {rss:.0f} MB (target < 300 MB)")
