"""The enterprise draw (commit + run) over a 1,000,000-enterprise directory, against a bare read + one hash.

Setup (not timed, cached in ``bench/out``): the example district's 1,000,000
enterprises (``ssj example-data --seed 1``; about 87,000 match the seed criteria)
inserted into a fresh, migrated SQLite database, with departments, items and the
seed campaign.

Product (its own process, for its peak RSS): ``commit_draw`` then ``run_draw``
on a copy — the eligible query, the snapshot text and its hash, the commitment,
the round stored; then the seed, 87,000 HMAC ranks, the sample, and the dispatch
(inspections, confirmation tasks, audit rows).

Baseline: ``sqlite3`` alone on the same database: the same eligibility SELECT,
the USCCs sorted, joined and hashed once. Alternating rounds, best of each.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from calendars import BEIJING
from bench import bare_sqlite
from bench.bench_import import OUT, ROWS, _csv_file, _rows
from bench.rounds import dispatch, fresh_copy, read_work, report_work, setup_in_child, summarise

ROUNDS = 3
CODE = "luquan-2019-h2"
CLERK = "clerk@office.luquan.example"
COMMIT_AT = datetime(2019, 11, 27, 8, 30, tzinfo=BEIJING)
RUN_AT = datetime(2019, 11, 27, 9, 0, tzinfo=BEIJING)
BARE_QUERY = (
    "SELECT e.uscc FROM enterprises e WHERE e.in_latest_directory = 1 AND e.category IN ('内资企业') "
    "AND e.status IN ('存续', '在业') AND e.established_on <= '2019-11-27' AND e.registered_capital >= 500 "
    "AND e.registered_capital <= 1000 AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.uscc = e.uscc "
    "AND i.inspected_at >= '2018-11-27 00:30:00.000000')"
)


def _setup(db: Path) -> None:
    from ssj.demo import seed_campaign_source
    from ssj.demo import simulation_database
    from workflow.campaign_file import parse_campaign
    from workflow.persistence.database import make_engine
    from workflow.services.campaigns import create_campaign
    from workflow.services.directory_import import import_directory
    from workflow.services.uow import UnitOfWork

    csv_path = _csv_file()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    simulation_database(engine, parse_campaign(seed_campaign_source()).office_staff, COMMIT_AT)
    district = csv_path.parent
    office = UnitOfWork(engine, now=COMMIT_AT, actor=CLERK)
    for kind in ("departments", "items"):
        import_directory(office, kind, str(district / f"{kind}.csv"), full=False)
    create_campaign(office, seed_campaign_source(), "luquan-2019-h2.toml")
    engine.dispose()
    con = bare_sqlite.connect(db)
    columns = ("uscc", "name", "category", "kind", "registered_capital", "established_on", "status", "district",
               "address", "legal_representative", "phone", "industry", "credit_risk", "in_latest_directory",
               "last_import_id", "created_at", "updated_at")
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO enterprises ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    _rows(csv_path))
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def party_items() -> tuple[list[str], list[str]]:
    """The seed campaign's draw parties with fixed secrets: (``--commitment`` items, ``--reveal`` items)."""
    from ssj.demo import seed_campaign_source
    from workflow.campaign_file import parse_campaign
    from workflow.draw import commitment_of

    secrets = {p: hashlib.sha256(f"bench:{p}".encode()).hexdigest()
               for p in parse_campaign(seed_campaign_source()).draw_parties}
    return [f"{p}={commitment_of(s)}" for p, s in secrets.items()], [f"{p}={s}" for p, s in secrets.items()]


def product(db: Path) -> None:
    """Runs in its own process: ``python -m bench.bench_draw --product DB``; prints work time and VmHWM."""
    from workflow.persistence.database import make_engine
    from workflow.services.draws import commit_draw, run_draw
    from workflow.services.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{db}")
    started = time.perf_counter()
    commitments, reveals = party_items()
    record = commit_draw(UnitOfWork(engine, now=COMMIT_AT, actor=CLERK, campaign=CODE), commitments=commitments)
    outcome = run_draw(UnitOfWork(engine, now=RUN_AT, actor=CLERK, campaign=CODE, files_dir=OUT / "files"),
                       witness="见证人 2019-11-27", reveals=reveals)
    work = time.perf_counter() - started
    print(f"  eligible {record.eligible:,}, sampled {outcome.record.result['sample_size']:,}", file=sys.stderr)
    report_work(work)
    engine.dispose()


def _current(db: Path) -> bool:
    """A cached setup database is reused while its schema is the installed one."""
    if not db.exists():
        return False
    from workflow.persistence.database import current_revision, head_revision, make_engine

    engine = make_engine(f"sqlite:///{db}")
    try:
        return current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _run_product(db: Path) -> tuple[float, float]:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_draw", "--product", str(db)], check=True,
                          cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE)
    return read_work(proc.stdout.decode())


def _baseline(db: Path) -> tuple[float, int]:
    con = bare_sqlite.connect(db)
    start = time.perf_counter()
    usccs = [row[0] for row in con.execute(BARE_QUERY)]
    hashlib.sha256("\n".join(sorted(usccs)).encode("utf-8")).hexdigest()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, len(usccs)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print("draw: commit + run over a 1,000,000-enterprise directory (SQLite)")
    pristine = OUT / f"draw-setup-{ROWS}.db"
    if not _current(pristine):
        print(f"  setup: {setup_in_child('bench.bench_draw', pristine):.1f} s")
    draw_rounds(lambda: (*_run_product(fresh_copy(pristine, OUT / "draw.db")), *_baseline(pristine)))


def draw_rounds(one_round: Callable[[], tuple[float, float, float, int]]) -> None:
    """Alternating rounds of (product seconds, its peak RSS, baseline seconds, eligible), then the summary."""
    products, baselines, peaks = [], [], []
    for round_ in range(1, ROUNDS + 1):
        work, rss, baseline, eligible = one_round()
        products.append(work)
        baselines.append(baseline)
        peaks.append(rss)
        print(f"  round {round_}: product {work:.2f} s (peak RSS {rss:.0f} MB), baseline {baseline:.2f} s "
              f"({eligible:,} eligible), ratio {work / baseline:.2f}x")
    summarise(products, baselines, peaks, baseline="baseline, bare SELECT of the eligible USCCs + one SHA-256",
              product="product: draw commit + draw run", ratio_target=3, rss_label="peak RSS of the product process",
              rss_target=500)

if __name__ == "__main__":
    dispatch(main, product=lambda a: product(Path(a)), setup=lambda a: _setup(Path(a)))
