"""Province scale on PostgreSQL: the draw over 1,000,000 enterprises, and the sweep with 1 and 2 workers.

Setup (not timed): the SQLite setups of the draw and sweep benchmarks (built when
missing) copied table by table with ``COPY`` into template databases on the
PostgreSQL server at ``SSJ_BENCH_POSTGRES_URL`` (default
``postgresql://root@127.0.0.1:5432/test``, a role that may create databases).
Each round runs on a fresh ``CREATE DATABASE … TEMPLATE`` copy.

Draw — product: ``commit_draw`` + ``run_draw`` in their own process; baseline,
psycopg alone: the same eligibility SELECT, the USCCs sorted, joined and hashed.
Sweep — product: ``sweep`` over 100,000 inspections with 5,000 due tasks, by 1
and by 2 worker processes started together (each claims batches with
``FOR UPDATE SKIP LOCKED``), timed from start to the last one done; baseline,
psycopg alone: the SELECT of the due rows and a bare INSERT of the 5,000 outbox
rows. Throughput is notices queued per second of wall time. Best of three rounds.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.bench_import import OUT, ROWS
from bench.rounds import ROOT, dispatch, setup_in_child

ROUNDS = 3
ADMIN = os.environ.get("SSJ_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
DRAW_TEMPLATE, SWEEP_TEMPLATE, RUN = "ssj_bench_draw_tpl", "ssj_bench_sweep_tpl", "ssj_bench_run"


def _url(database: str) -> str:
    return make_url(ADMIN).set(database=database).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _fresh(database: str, template: str | None = None) -> str:
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _url(database)


def _template_from_sqlite(sqlite_db: Path, template: str) -> None:
    """A migrated PostgreSQL database holding every row of the SQLite one (ids and sequences kept)."""
    from workflow.persistence.database import make_engine, upgrade
    from workflow.persistence.orm import Base

    url = _fresh(template)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    source = sqlite3.connect(sqlite_db)
    with psycopg.connect(url) as target:
        target.execute("SET TIME ZONE 'UTC'")  # the SQLite file keeps UTC instants without an offset
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            with target.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in source.execute(f'SELECT {quoted} FROM "{table.name}"'):
                    copy.write_row(row)
            if "id" in columns:
                target.execute(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                               f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)")
        target.execute("ANALYZE")
    source.close()


# --- the draw ---------------------------------------------------------------------------------------


def draw_product(url: str) -> None:
    """Its own process: ``python -m bench.bench_postgres --draw URL``; prints work time and VmHWM."""
    from bench.bench_draw import CLERK, CODE, COMMIT_AT, RUN_AT, party_items
    from bench.rounds import report_work
    from workflow.persistence.database import make_engine
    from workflow.services.draws import commit_draw, run_draw
    from workflow.services.uow import UnitOfWork

    engine = make_engine(url)
    start = time.perf_counter()
    commitments, reveals = party_items()
    commit_draw(UnitOfWork(engine, now=COMMIT_AT, actor=CLERK, campaign=CODE), commitments=commitments)
    run_draw(UnitOfWork(engine, now=RUN_AT, actor=CLERK, campaign=CODE, files_dir=OUT / "files"), witness="bench",
             reveals=reveals)
    report_work(time.perf_counter() - start)


def _draw_baseline(url: str) -> tuple[float, int]:
    from bench.bench_draw import BARE_QUERY

    query = BARE_QUERY.replace("in_latest_directory = 1", "in_latest_directory")
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        usccs = [row[0] for row in conn.execute(query)]
        hashlib.sha256("\n".join(sorted(usccs)).encode("utf-8")).hexdigest()
        return time.perf_counter() - start, len(usccs)


def _draw() -> None:
    from bench.bench_draw import _current, draw_rounds

    pristine = OUT / f"draw-setup-{ROWS}.db"
    if not _current(pristine):
        print(f"  SQLite setup: {setup_in_child('bench.bench_draw', pristine):.1f} s")
    started = time.perf_counter()
    _template_from_sqlite(pristine, DRAW_TEMPLATE)
    print(f"  copied into PostgreSQL: {time.perf_counter() - started:.1f} s")
    draw_rounds(lambda: (*_draw_product_in_child(_fresh(RUN, DRAW_TEMPLATE)), *_draw_baseline(_url(DRAW_TEMPLATE))))


def _draw_product_in_child(url: str) -> tuple[float, float]:
    from bench.rounds import read_work

    proc = subprocess.run([sys.executable, "-m", "bench.bench_postgres", "--draw", url], check=True, cwd=ROOT,
                          stdout=subprocess.PIPE)
    return read_work(proc.stdout.decode())

# --- the sweep --------------------------------------------------------------------------------------


def sweep_worker(url: str) -> None:
    """Its own process: ``python -m bench.bench_postgres --sweep URL``; waits for GO, sweeps, prints its notices."""
    from bench.bench_machine import CODE
    from bench.bench_sweep import NOW
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.sweep import sweep
    from workflow.services.uow import UnitOfWork

    engine = make_engine(url)
    tick = UnitOfWork(engine, now=NOW, actor=SYSTEM, campaign=CODE)
    with tick:
        tick.calendar  # the plan and calendar loaded before the start, as the other side's imports
    print("READY", flush=True)
    sys.stdin.readline()
    report = sweep(tick)
    print(f"NOTICES {report.notices} {report.queued}", flush=True)


def _sweep_with(workers: int) -> tuple[float, int]:
    url = _fresh(RUN, SWEEP_TEMPLATE)
    procs = [subprocess.Popen([sys.executable, "-m", "bench.bench_postgres", "--sweep", url], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    for p in procs:  # imports and the plan loaded: start them together
        assert p.stdout.readline().strip() == "READY"
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("GO\n")
        p.stdin.flush()
    notices = 0
    for p in procs:
        words = p.stdout.readline().split()
        notices += int(words[1])
        p.wait()
    return time.perf_counter() - start, notices


def _sweep_baseline() -> float:
    from bench.bench_sweep import DUE

    url = _fresh(RUN, SWEEP_TEMPLATE)
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        due = conn.execute("SELECT * FROM tasks WHERE campaign_code = %s AND done_at IS NULL AND "
                           "(next_notice_at <= %s OR next_notice_at IS NULL) ORDER BY id",
                           ("luquan-2019-h2", "2019-11-30 00:00:00+00")).fetchall()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO outbox (key, message_id, campaign_code, task_id, kind, recipient, template, "
                            "context, created_at, not_before, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                            "now(), now(), 0)",
                            [(f"bench-{r[0]}", f"<bench-{r[0]}@ssj>", "luquan-2019-h2", r[0], "overdue",
                              "contact@example.com", "task_notice", "{}") for r in due])
        conn.commit()
        elapsed = time.perf_counter() - start
    assert len(due) == min(DUE, len(due)) > 0
    return elapsed


def _sweep() -> None:
    pristine = OUT / "sweep-setup.db"
    print(f"  SQLite setup: {setup_in_child('bench.bench_sweep', pristine):.1f} s")
    started = time.perf_counter()
    _template_from_sqlite(pristine, SWEEP_TEMPLATE)
    print(f"  copied into PostgreSQL: {time.perf_counter() - started:.1f} s")
    best: dict[int, tuple[float, int]] = {}
    baselines = []
    for round_ in range(1, ROUNDS + 1):
        baselines.append(_sweep_baseline())
        line = [f"  round {round_}: baseline {baselines[-1]:.2f} s"]
        for workers in (1, 2):
            seconds, notices = _sweep_with(workers)
            if workers not in best or seconds < best[workers][0]:
                best[workers] = (seconds, notices)
            line.append(f"{workers} worker{'s' if workers > 1 else ''} {seconds:.2f} s ({notices:,} notices)")
        print("; ".join(line))
    base = min(baselines)
    print(f"  baseline, bare SELECT of the due rows + bare INSERT of 5,000 outbox rows (best) : {base:6.2f} s")
    for workers, (seconds, notices) in sorted(best.items()):
        print(f"  product: sweep with {workers} worker{'s' if workers > 1 else ' '} (best)"
              f"{' ' * 37}: {seconds:6.2f} s, {notices / seconds:,.0f} notices/s, ratio {seconds / base:.2f}x")
    print(f"  2 workers vs 1: {best[1][0] / best[2][0]:.2f}x the throughput (this machine has 2 cores, "
          "shared with PostgreSQL)")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"postgres: the draw over {ROWS:,} enterprises (PostgreSQL)")
    _draw()
    print("postgres: the sweep over 100,000 open inspections with 5,000 due tasks, 1 and 2 workers (PostgreSQL)")
    _sweep()
    for database in (RUN, DRAW_TEMPLATE, SWEEP_TEMPLATE):
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    dispatch(main, draw=draw_product, sweep=sweep_worker)
