"""Province section ``sweep``: the first overdue wave of the seed campaign at 10 %, queued by the sweep the tick
runs, with 1 and 2 workers, vs its floor.

Starting point (built once, kept as a template database like the others): ``drawn("10%")`` — the campaign drawn
and dispatched through the product — then swept by the product as the quarter-hourly tick would: once after the
draw (every task's first notice planned) and at every notice instant before the confirmations' deadline (the
reminders, their digests queued). The wave's instant is the confirm deadline (2 workdays after dispatch): every
confirmation still open gets its 【逾期】 notice then.

Product: ``workflow.services.sweep.sweep`` — the service ``ssj tick`` and the Prefect tick call — in 1 or 2
worker processes of their own, started together once their imports are loaded, timed from GO to the last one
reporting its pass done (not to its process's exit); peak RSS the largest worker's own (``PeakWatch``). Nothing
is sent (sending is the ``send`` section).
Floor, in the same run, on another copy of the starting point: psycopg alone selecting the due tasks (the
sweep's condition) and ``COPY``-ing the rows the product's run wrote — its held notices (``pending_notices``),
its outbox rows and their attachments, read back from that run — into same-shaped scratch tables, and one
``UPDATE … FROM unnest(…)`` setting the due tasks' levels and next instants as that run left them, committed;
plus the lists attached to the digests (what is still unanswered, to fill in and send back), read back from the
1-worker run and written again by a bare openpyxl write-only loop (as the draw's floor counts its lists).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime

import psycopg

from bench.bench_import import OUT
from bench.province_common import (CODE, PREFIX, RUN_AT, PeakWatch, copy_into_floor_tables, drawn, drop, fresh, line,
                                   lists_again, template, url)
from bench.rounds import ROOT

RATIO = "10%"
TOP = 0  # the ladder's top level (+1), as a worker reads it from the plan
WRITTEN = ("pending_notices", "outbox", "outbox_attachments")  # what a sweep writes besides the tasks' levels
DUE = ("SELECT * FROM tasks WHERE campaign_code = %s AND done_at IS NULL AND (next_notice_at <= %s OR "
       "(next_notice_at IS NULL AND escalation_level < %s)) ORDER BY id")


def worker(database_url: str, now: str, files_dir: str) -> None:
    """Its own process: ``python -m bench.province_sweep --worker URL NOW FILES``; waits for GO, sweeps, prints
    what it queued."""
    from pathlib import Path

    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.sweep import sweep
    from workflow.services.uow import UnitOfWork

    import openpyxl  # noqa: F401 — what the run loads for its lists, loaded before the start as the floor's is

    engine = make_engine(database_url)
    uow = UnitOfWork(engine, now=datetime.fromisoformat(now), actor=SYSTEM, campaign=CODE, files_dir=Path(files_dir))
    with uow:
        uow.calendar  # the plan and calendar loaded before the start, as the floor's imports are
        top = len(uow.plan.escalation.ladder) + 1
    print(f"READY {top}", flush=True)
    sys.stdin.readline()
    report = sweep(uow)
    print(f"SWEPT {report.planned} {report.notices} {report.queued} {int(report.busy)}", flush=True)


FILES = OUT / "province-sweep-files"


def _sweep(database: str, now: datetime, workers: int = 1) -> tuple[float, float, list[int]]:
    """The product's sweep at ``now`` by ``workers`` processes: (seconds, largest peak RSS MB, [planned, notices,
    queued, workers that found the pass taken] summed). Its files (the lists attached to the digests) go to
    ``FILES``, emptied first."""
    files = FILES
    shutil.rmtree(files, ignore_errors=True)
    procs = [subprocess.Popen([sys.executable, "-m", "bench.province_sweep", "--worker",
                               url(database, "postgresql+psycopg"), now.isoformat(), str(files)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    for p in procs:
        ready = p.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise SystemExit("a sweep worker did not start")
        global TOP
        TOP = int(ready[1])
    watches = [PeakWatch(p.pid) for p in procs]
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("GO\n")
        p.stdin.flush()
    totals, peak, done = [0, 0, 0, 0], 0.0, start
    for p, watch in zip(procs, watches):
        words = p.stdout.readline().split()
        done = time.perf_counter()  # the pass reported: the process's exit (freeing its objects) is not the pass
        peak = max(peak, watch.stop())
        status = p.wait()
        if status != 0 or not words:
            raise SystemExit(f"a sweep worker failed (exit {status})")
        totals = [a + int(b) for a, b in zip(totals, words[1:])]
    return done - start, peak, totals


def _instants(database: str) -> tuple[datetime | None, datetime]:
    """(the campaign's next notice instant, the confirmations' deadline)."""
    with psycopg.connect(url(database)) as conn:
        return conn.execute("SELECT (SELECT min(next_notice_at) FROM tasks WHERE done_at IS NULL), "
                            "(SELECT min(due_at) FROM tasks WHERE kind = 'confirm')").fetchone()


def wave() -> tuple[str, datetime]:
    """The starting point: drawn at ``RATIO`` and swept by the product up to the first overdue wave; its instant."""
    base = drawn(RATIO)

    def build(database: str) -> None:
        fresh(database, base)
        _sweep(database, RUN_AT.replace(minute=15))  # the tick after the draw plans every first notice
        while True:  # the reminders' ticks, up to the deadline
            at, deadline = _instants(database)
            if at is None or at >= deadline:
                return
            _sweep(database, at)
    name = template(f"swept {RATIO}", build)
    return name, _instants(name)[1]


def _written(database: str, wave_at: datetime) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows the product's sweep at ``wave_at`` wrote: per table, (columns, rows)."""
    found = {}
    with psycopg.connect(url(database)) as conn:
        where = {"pending_notices": "decided_at = %s", "outbox": "created_at = %s",
                 "outbox_attachments": "message_key IN (SELECT key FROM outbox WHERE created_at = %s)"}
        for table in WRITTEN:
            cursor = conn.execute(f"SELECT * FROM {table} WHERE {where[table]}", (wave_at,))
            found[table] = ([c.name for c in cursor.description if c.name != "id"],
                            [r[1:] if cursor.description[0].name == "id" else r for r in cursor.fetchall()])
        found["tasks"] = ([], conn.execute("SELECT id, escalation_level, next_notice_at FROM tasks WHERE id IN "
                                           "(SELECT task_id FROM pending_notices WHERE decided_at = %s)",
                                           (wave_at,)).fetchall())
    return found


def _floor(database: str, wave_at: datetime, written: dict) -> tuple[float, int]:
    """psycopg alone: the SELECT of the due tasks, COPY of the product's rows into same-shaped tables and one UPDATE
    of the tasks' levels as the product left them."""
    with psycopg.connect(url(database)) as conn:
        for table in WRITTEN:
            conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        conn.commit()
        start = time.perf_counter()
        due = conn.execute(DUE, (CODE, wave_at, TOP)).fetchall()
        copy_into_floor_tables(conn, {t: written[t] for t in WRITTEN})
        conn.execute("UPDATE tasks t SET escalation_level = v.level, next_notice_at = v.next FROM unnest("
                     "%s::bigint[], %s::int[], %s::timestamptz[]) AS v(id, level, next) WHERE t.id = v.id",
                     [list(c) for c in zip(*written["tasks"][1])] or [[], [], []])
        conn.commit()
        return time.perf_counter() - start, len(due)


def run() -> None:
    print(f"sweep: the first overdue wave of the seed campaign at {RATIO} (the tick's sweep service, no mail sent)")
    name, wave_at = wave()
    database = f"{PREFIX}_sweep"
    figures = {}
    try:
        for workers in (1, 2):
            fresh(database, name)
            figures[workers] = _sweep(database, wave_at, workers)
            if workers == 1:
                written = _written(database, wave_at)
                lists, attached = lists_again(FILES / "派发", OUT / "province-sweep-floor-lists")
        fresh(database, name)
        selected, due = _floor(database, wave_at, written)
    finally:
        drop(database)
    floor = selected + lists
    (_, _, (planned, notices, queued, _)) = figures[1]
    print(f"  at {wave_at.isoformat()}: {due:,} due tasks; {notices:,} notices held in "
          f"{len(written['pending_notices'][1]):,} rows, {queued:,} digests queued "
          f"({len(written['outbox_attachments'][1]):,} attachments), {planned:,} planned")
    print(line("floor 1: SELECT of the due tasks + COPY of the same held notices and outbox rows + one UPDATE of "
               "the tasks' levels", selected))
    print(line(f"floor 2: the {attached} attached lists by a bare openpyxl write-only loop", lists))
    print(line("floor: 1 + 2", floor))
    for workers, (seconds, rss, totals) in figures.items():
        print(line(f"sweep, {workers} worker{'s' if workers > 1 else ''}", seconds, floor, rss=rss))
        if totals[1] != notices:
            print(f"  ({workers} workers decided {totals[1]:,} notices, 1 worker {notices:,})")
        if totals[3]:
            print(f"  ({totals[3]} of the {workers} workers found the campaign's pass taken and left it to the other)")
    for workers, (seconds, _, _) in figures.items():
        print(f"  ratio: {seconds / floor:.2f}x with {workers} worker{'s' if workers > 1 else ''} (target ≤ 2x)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:])
    else:
        run()
