"""Province section ``draw``: ``ssj draw commit`` + ``ssj draw run`` of the seed campaign at 10 % over the whole
directory — the path users run, the department lists and their mails included — vs its floor.

Product: in a process of its own (``--product``, for its own peak RSS), the services the two commands call, in
their order and with their options: ``commitments_given``, ``commit_draw``, ``reveals_given``, ``run_draw`` (the
sample, the inspections and their departments, the confirmation tasks, the audit rows, each department's list
written to ``派发/`` and its mail queued with the file, the statistics refreshed), ``chain_head`` and
``draw_document``; timed inside that process. For information, the two commands themselves (``ssj draw commit``,
``ssj draw run``) on another copy: their wall times, start-up and printing included.

Floor, in the same run and database, the least any program must do for the same result:
  1. the eligibility SELECT (psycopg alone), the USCCs sorted, joined and hashed once (SHA-256);
  2. psycopg ``COPY`` of exactly the rows the product wrote — read back after its run from ``inspections``,
     ``inspection_departments``, ``tasks``, ``outbox``, ``outbox_attachments`` and ``audit_events`` — into
     same-shaped scratch tables, committed: ``LIKE … INCLUDING DEFAULTS, CONSTRAINTS, INDEXES`` plus the real
     tables' foreign keys (a key to one of these tables points at its scratch copy), so the floor maintains the
     same indexes and checks the same references any program writing these rows into this schema must; the
     same COPY without the foreign keys is printed for information;
  3. the same department lists (the rows and columns the product's files hold, read back from them, and the
     hidden ``ssj`` sheet) written by a bare openpyxl write-only loop, no styling.
The floor's parts are timed apart and added up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.bench_import import OUT
from bench.province_common import (CLERK, CODE, COMMIT_AT, PREFIX, RUN_AT, campaign, copy_into_floor_tables,
                                   directory, drop, fresh, line, lists_again, party_items, ssj, upgraded, url)

RATIO = "10%"
WITNESS = "见证人 2019-11-27"
BARE_QUERY = (
    "SELECT e.uscc FROM enterprises e WHERE e.in_latest_directory AND e.category IN ('内资企业') "
    "AND e.status IN ('存续', '在业') AND e.established_on <= '2019-11-27' AND e.registered_capital >= 500 "
    "AND e.registered_capital <= 1000 AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.uscc = e.uscc "
    "AND i.inspected_at >= '2018-11-26 16:30:00+00')"
)
# The tables a draw writes, each with how to find the rows it wrote: rows whose id passed the id before the run
# (``None``: rows keyed by a new row of another table).
WRITTEN = {
    "inspections": "id > {inspections}",
    "inspection_departments": "inspection_id > {inspections}",
    "tasks": "id > {tasks}",
    "outbox": "id > {outbox}",
    "outbox_attachments": "message_key IN (SELECT key FROM outbox WHERE id > {outbox})",
    "audit_events": "id > {audit_events}",
}
SERIAL = ("inspections", "tasks", "outbox", "audit_events")


# --- the product, in its own process ------------------------------------------------------------------------

def product(database: str, files: str) -> None:
    """``python -m bench.province_draw --product DATABASE FILES``: what the two commands call, timed; prints
    ``WORK seconds peak-MB``. ``SSJ_BENCH_PROFILE=path``: a cProfile of the work written there."""
    from bench.rounds import report_work
    from workflow.persistence.database import ready_engine
    from workflow.services.draws import (chain_head, commit_draw, commitments_given, draw_document, reveals_given,
                                         run_draw)
    from workflow.services.uow import UnitOfWork

    engine = ready_engine(url(database, "postgresql+psycopg"))
    commitments, reveals = party_items()

    def uow(now, changes=True):
        return UnitOfWork(engine, now=now, actor=CLERK, campaign=CODE, files_dir=Path(files), changes=changes)

    def work():
        commitments_given(uow(COMMIT_AT, False), commitments)
        commit_draw(uow(COMMIT_AT), commitments=commitments)
        reveals_given(uow(RUN_AT, False), reveals, WITNESS)
        outcome = run_draw(uow(RUN_AT), witness=WITNESS, reveals=reveals)
        chain_head(uow(RUN_AT, False))
        return draw_document(outcome.record, CODE)

    profile = os.environ.get("SSJ_BENCH_PROFILE")
    started = time.perf_counter()
    if profile:
        import cProfile

        cProfile.runctx("work()", globals(), {"work": work}, profile)
    else:
        work()
    elapsed = time.perf_counter() - started
    engine.dispose()
    report_work(elapsed)


def _run_product(database: str, files: Path) -> tuple[float, float]:
    from bench.rounds import ROOT, read_work

    proc = subprocess.run([sys.executable, "-m", "bench.province_draw", "--product", database, str(files)],
                          check=True, cwd=ROOT, stdout=subprocess.PIPE)
    return read_work(proc.stdout.decode())


# --- the floor -------------------------------------------------------------------------------------------------

def _last_ids(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in SERIAL}


def _select_and_hash(address: str) -> tuple[float, int]:
    with psycopg.connect(address) as conn:
        start = time.perf_counter()
        usccs = [row[0] for row in conn.execute(BARE_QUERY)]
        hashlib.sha256("\n".join(sorted(usccs)).encode("utf-8")).hexdigest()
        return time.perf_counter() - start, len(usccs)


def _copy_written(address: str, before: dict[str, int]) -> tuple[float, float, dict[str, int]]:
    """The rows the product wrote, read back, then COPYed into same-shaped scratch tables: twice, without and
    with the foreign keys of the real tables (a key to a written table then points at its scratch copy).
    Returns (seconds with, seconds without, row counts)."""
    with psycopg.connect(address) as conn:
        written = {}
        for table, where in WRITTEN.items():
            columns = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,))]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where.format(**before)} "
                                f"ORDER BY 1").fetchall()
            written[table] = (columns, rows)
        keys = {table: [r[0] for r in conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass",
            (table,))] for table in written}
        seconds = {}
        for shape in ("bare", "keyed"):
            for table in written:
                conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                             "INCLUDING INDEXES)")
                for n, definition in enumerate(keys[table] if shape == "keyed" else ()):
                    for parent in written:
                        definition = definition.replace(f"REFERENCES {parent}(", f"REFERENCES floor_{parent}(")
                    conn.execute(f"ALTER TABLE floor_{table} ADD CONSTRAINT floor_{table}_fk{n} {definition}")
            conn.commit()
            start = time.perf_counter()
            copy_into_floor_tables(conn, written)
            conn.commit()
            seconds[shape] = time.perf_counter() - start
            for table in reversed(list(written)):
                conn.execute(f"DROP TABLE floor_{table}")
            conn.commit()
    return seconds["keyed"], seconds["bare"], {t: len(rows) for t, (_, rows) in written.items()}


# --- the section -------------------------------------------------------------------------------------------------

def _cli(database: str, files: Path) -> tuple[float, float, float]:
    """``ssj draw commit`` + ``ssj draw run`` as users run them: (commit wall, run wall, larger peak RSS)."""
    commitments, reveals = party_items()
    env = {"SSJ_FILES_DIR": str(files)}
    first, rss1, _ = ssj(database, "draw", "commit", CODE, *[a for c in commitments for a in ("--commitment", c)],
                         now=COMMIT_AT, env=env)
    second, rss2, _ = ssj(database, "draw", "run", CODE, "--witness", WITNESS,
                          *[a for r in reveals for a in ("--reveal", r)], now=RUN_AT, env=env)
    return first, second, max(rss1, rss2)


def run() -> None:
    print(f"draw: the seed campaign at {RATIO} (draw commit + draw run, dispatch lists included)")
    base, work, cli = f"{PREFIX}_draw_base", f"{PREFIX}_draw", f"{PREFIX}_draw_cli"
    files = OUT / "province-draw-files"
    shutil.rmtree(files, ignore_errors=True)
    fresh(base, directory())
    try:
        upgraded(base)  # a directory kept from an earlier checkout: its schema brought up to this one's
        campaign(base, RATIO)
        address = fresh(work, base)
        with psycopg.connect(address) as conn:
            before = _last_ids(conn)
        product, rss = _run_product(work, files / "product")
        selected, eligible = _select_and_hash(address)
        copied, unkeyed, counts = _copy_written(address, before)
        lists, written = lists_again(files / "product" / "派发", files / "floor")
        drop(work)
        fresh(cli, base)
        commit_wall, run_wall, cli_rss = _cli(cli, files / "cli")
    finally:
        for database in (work, cli, base):
            drop(database)
    floor = selected + copied + lists
    print(f"  {eligible:,} eligible, {counts['inspections']:,} drawn, {counts['tasks']:,} tasks, "
          f"{counts['audit_events']:,} audit rows, {counts['outbox']:,} mails, {written} department lists")
    print(line("floor 1: bare SELECT of the eligible USCCs + one SHA-256", selected))
    print(line(f"floor 2: COPY of the {sum(counts.values()):,} rows the draw wrote", copied))
    print(line("  (the same COPY without the foreign keys, for information)", unkeyed))
    print(line(f"floor 3: the {written} lists by a bare openpyxl write-only loop", lists))
    print(line("floor: 1 + 2 + 3", floor))
    print(line("product: the services of draw commit + draw run", product, floor, rss=rss))
    print(f"  ratio: {product / floor:.2f}x (target ≤ 2x)")
    print(line("ssj draw commit (wall, for information)", commit_wall))
    print(line("ssj draw run (wall, for information)", run_wall, rss=cli_rss))


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--product":
    product(sys.argv[2], sys.argv[3])
