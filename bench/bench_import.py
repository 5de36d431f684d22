"""``ssj import enterprises`` of a 1,000,000-row CSV against the DBAPI's bare ``executemany``.

Product: the installed ``ssj`` in its own process on a fresh SQLite database
(migrated schema), wall time and that process's peak RSS (``wait4``).
Baseline: the same rows, already parsed and held in memory, inserted with
``sqlite3``'s ``executemany`` into the same table (same unique index, same
pragmas) in one transaction. A second baseline streams the CSV into
``executemany`` (reading included). The ratio product / baseline is the result.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import bare_sqlite

from calendars import BEIJING
from ssj.demo import simulation_database
from ssj.example_district import write_example_data
from workflow.persistence.database import make_engine

BENCH_CLERK = "bench@office.luquan.example"
ROWS = int(os.environ.get("SSJ_BENCH_ROWS", "1000000"))
OUT = Path(__file__).resolve().parent / "out"
COLUMNS = ("uscc", "name", "category", "kind", "registered_capital", "established_on", "status", "district",
           "address", "legal_representative", "phone", "industry", "credit_risk",
           "in_latest_directory", "last_import_id", "created_at", "updated_at")


def _fresh_db(name: str) -> Path:
    db = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    simulation_database(engine, [BENCH_CLERK], datetime.now(BEIJING))  # the product's import runs as an office clerk
    engine.dispose()
    return db


def _csv_file() -> Path:
    data = OUT / f"district-{ROWS}"
    path = data / "enterprises.csv"
    if not path.exists():
        write_example_data(data, ROWS, 1)
    return path


def _product(path: Path) -> tuple[float, float]:
    db = _fresh_db("product.db")
    ssj = str(Path(sys.executable).with_name("ssj"))
    env = {**os.environ, "SSJ_DATABASE_URL": f"sqlite:///{db}", "SSJ_USER": BENCH_CLERK}
    start = time.perf_counter()
    proc = subprocess.Popen([ssj, "import", "enterprises", str(path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"ssj import failed: {err}")
    print(f"  {out.strip()}")
    return elapsed, usage.ru_maxrss / 1024


def _rows(path: Path):
    stamp = datetime.now(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            yield (r[0], r[1], r[2], r[3] or None, float(r[4]) if r[4] else None, r[5], r[6], r[7] or None,
                   r[8] or None, r[9] or None, r[10] or None, r[11] or None, r[12] or None, 1, 1, stamp, stamp)


def _bare_executemany(rows) -> float:
    db = _fresh_db("baseline.db")
    sql = f"INSERT INTO enterprises ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    return bare_sqlite.timed_executemany(db, sql, rows)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"import: {ROWS:,} enterprises from CSV into SQLite")
    path = _csv_file()
    print(f"  file: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    # The product runs first: a child's peak RSS (wait4) includes its parent's at fork
    # time, and the baseline below holds every row in memory.
    product, rss = _product(path)
    streamed = _bare_executemany(_rows(path))
    in_memory = list(_rows(path))
    baseline = _bare_executemany(in_memory)
    del in_memory
    print(f"  baseline, bare executemany of parsed rows in memory : {baseline:7.2f} s")
    print(f"  baseline, csv.reader streamed into executemany      : {streamed:7.2f} s")
    print(f"  ssj import enterprises (validated, all-or-nothing)  : {product:7.2f} s")
    print(f"  ratio vs bare executemany: {product / baseline:.2f}x (target ≤ 4x); "
          f"vs streamed: {product / streamed:.2f}x")
    print(f"  peak RSS of ssj import: {rss:.0f} MB (target < 500 MB)")
