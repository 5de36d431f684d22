"""100,000 inspections loaded and moved one step (``publish``) with their audit rows, against bare SQL.

Setup (not timed): a fresh, migrated SQLite database with 100,000 enterprises
drawn into the seed campaign (``start_inspections``: inspections, 700,000
department dispatches and confirmation tasks, 100,000 audit rows), then set to
``reported`` by SQL and the campaign's counts recounted (what the product's own
moves would have kept). It is copied before the product runs, so both sides
start from the same file.

Product (its own process, for its peak RSS): ``services.inspections.move_all`` in
one unit of work — what ``ssj publish`` does for a campaign: load every ``reported``
inspection (100,000 objects held at once), then, in one transaction: fire ``publish``
through the shared machine (its guard: the office only), write the moves
(version-checked UPDATE), run their reaction (the disclosure task closes),
append the hash-chained audit rows and keep the campaign's counts.

Baseline: on a copy, the very same UPDATEs and INSERTs (the rows the product
wrote, read back) through ``sqlite3``'s bare ``executemany``, in one transaction
(the inspections, their disclosure tasks closed, the audit rows), plus the
chain-head update. Product and baseline
alternate for five rounds; the ratio of the best of each is the result.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from calendars import BEIJING
from bench import bare_sqlite
from bench.rounds import dispatch, fresh_copy, read_work, report_work, setup_in_child, summarise
from sqlalchemy import text

N = int(os.environ.get("SSJ_BENCH_INSPECTIONS", "100000"))
ROUNDS = 5
OUT = Path(__file__).resolve().parent / "out"
CODE = "luquan-2019-h2"
CLERK = "clerk@office.luquan.example"
DRAWN = datetime(2019, 11, 27, 10, 0, tzinfo=BEIJING)
PUBLISHED = datetime(2019, 12, 17, 15, 0, tzinfo=BEIJING)


def _setup(db: Path) -> None:
    from ssj.demo import seed_campaign_source
    from ssj.demo import simulation_database
    from workflow.campaign_file import parse_campaign
    from workflow.persistence.counts import recount
    from workflow.persistence.database import make_engine
    from workflow.services.campaigns import create_campaign
    from workflow.services.directory_import import import_directory
    from workflow.services.inspections import start_inspections
    from workflow.services.uow import UnitOfWork

    district = Path(__file__).resolve().parents[1] / "examples" / "district"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    simulation_database(engine, parse_campaign(seed_campaign_source()).office_staff, DRAWN)
    office = UnitOfWork(engine, now=DRAWN, actor=CLERK, campaign=CODE)
    for kind in ("departments", "items"):
        import_directory(office, kind, str(district / f"{kind}.csv"), full=False)
    stamp = "2019-11-01 00:00:00.000000"
    usccs = [f"BENCH{i:013d}" for i in range(N)]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO enterprises (uscc, name, category, established_on, status, in_latest_directory, "
            "created_at, updated_at) VALUES (?, ?, '内资企业', '2010-01-01', '存续', 1, ?, ?)",
            [(u, f"企业{u[-6:]}", stamp, stamp) for u in usccs])
    create_campaign(office, seed_campaign_source(), "luquan-2019-h2.toml")
    for start in range(0, N, 20000):
        with office:
            start_inspections(office, usccs[start:start + 20000])
    with engine.begin() as conn:
        conn.execute(text("UPDATE inspections SET state = 'reported', version = 5, "
                          "reported_at = '2019-12-12 02:00:00.000000'"))
        recount(conn, CODE)  # what the product's own moves would have kept
    engine.dispose()


def product(db: Path) -> None:
    """Runs in its own process: ``python -m bench.bench_machine --product DB``; prints its work time."""
    from workflow.persistence.database import make_engine
    from workflow.services.inspections import move_all
    from workflow.services.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{db}")
    started = time.perf_counter()
    with UnitOfWork(engine, now=PUBLISHED, actor=CLERK, campaign=CODE) as office:
        report = move_all(office, "publish", source="reported")
    moved, loaded = report.moved, report.moved + len(report.refused)
    work = time.perf_counter() - started
    assert moved == loaded == N, (moved, loaded)
    report_work(work)
    engine.dispose()


def _run_product(db: Path) -> tuple[float, float, float]:
    """(work seconds, wall seconds with interpreter start-up, peak RSS MB) of one product process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bench_machine", "--product", str(db)],
                            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE)
    output = proc.communicate()[0].decode()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("the product run failed")
    work, rss = read_work(output)
    return work, elapsed, rss


def _written(db: Path, setup_audit_rows: int):
    """What the product wrote: the moves and the audit rows, to replay on the copy."""
    con = sqlite3.connect(db)
    moves = con.execute("SELECT id, version - 1, published_at FROM inspections WHERE state = 'published' "
                        "ORDER BY id").fetchall()
    audit = con.execute("SELECT chain, seq, occurred_at, actor, action, campaign_code, uscc, from_state, to_state, "
                        "payload, prev_hash, hash FROM audit_events WHERE id > ? ORDER BY id",
                        (setup_audit_rows,)).fetchall()
    con.close()
    return moves, audit


def _baseline(db: Path, moves, audit) -> float:
    con = bare_sqlite.connect(db)
    update_sql = ("UPDATE inspections SET state = 'published', version = version + 1, published_at = ?, "
                  "withdraw_reason = NULL WHERE id = ? AND version = ?")
    task_sql = "UPDATE tasks SET done_at = ?, outcome = ? WHERE inspection_id = ? AND kind = ? AND done_at IS NULL"
    insert_sql = ("INSERT INTO audit_events (chain, seq, occurred_at, actor, action, campaign_code, uscc, from_state, "
                  "to_state, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    start = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany(update_sql, [(at, id_, v) for id_, v, at in moves])
    con.executemany(task_sql, [(at, "done", id_, "publish") for id_, _, at in moves])
    con.executemany(insert_sql, audit)
    con.execute("UPDATE audit_chains SET last_seq = ?, last_hash = ? WHERE chain = ?",
                (audit[-1][1], audit[-1][11], audit[-1][0]))
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"machine: {N:,} inspections loaded and moved reported → published with their audit rows (SQLite)")
    pristine = OUT / "machine-setup.db"
    setup_seconds = setup_in_child("bench.bench_machine", pristine)
    con = sqlite3.connect(pristine)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    setup_audit_rows = con.execute("SELECT max(id) FROM audit_events").fetchone()[0]
    con.close()
    print(f"  setup (draw, dispatch, back-fill by SQL): {setup_seconds:.1f} s")
    products, baselines, peaks = [], [], []
    for round_ in range(1, ROUNDS + 1):  # alternate, best of each: the machine is shared and noisy
        db = fresh_copy(pristine, OUT / "machine.db")
        work, elapsed, rss = _run_product(db)
        moves, audit = _written(db, setup_audit_rows)
        assert len(moves) == len(audit) == N, (len(moves), len(audit))
        baseline = _baseline(fresh_copy(pristine, OUT / "machine-baseline.db"), moves, audit)
        del moves, audit
        products.append(work)
        baselines.append(baseline)
        peaks.append(rss)
        print(f"  round {round_}: product {work:.2f} s (process {elapsed:.2f} s, peak RSS {rss:.0f} MB), "
              f"baseline {baseline:.2f} s, ratio {work / baseline:.2f}x")
    summarise(products, baselines, peaks, baseline="baseline, bare executemany of the same UPDATEs and INSERTs",
              product="product: load, guard, move, audit", ratio_target=3,
              rss_label="peak RSS of the product process, 100,000 inspections loaded", rss_target=300)


if __name__ == "__main__":
    dispatch(main, product=lambda a: product(Path(a)), setup=lambda a: _setup(Path(a)))
