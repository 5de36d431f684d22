"""The deadline sweep over 100,000 open inspections with 5,000 due tasks, against bare SQL.

Setup (a child process): the machine benchmark's 100,000 drawn inspections; then by SQL every
inspection keeps one open confirmation task — 5,000 of them overdue (their reminder and overdue
instants passed), the 95,000 others due later — and every other task is closed.

Product, on a copy per round: ``TaskRepository.notice_due`` (finding: the due set in one indexed query) and
``sweep.sweep`` (the whole pass: claim a batch at a time, decide each notice, move its level by
compare-and-set, hold each notice for its recipient, audit it; then the digest: one message per
recipient and stage, which for a department's administrator carries the XLSX list of the enterprises
still to answer). Baselines through ``sqlite3`` alone: the same SELECT of the due rows, and for the
pass that SELECT plus a bare INSERT of the same 5,000 held notices and of the outbox rows the product
queued (rendering happens at send time), plus openpyxl's write-only mode saving the same list of 5,000
enterprises, values only (the floor of the attached file). Best of three rounds.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from pathlib import Path

from calendars import BEIJING
from bench import bare_sqlite
from bench.bench_machine import CODE, N, OUT, _setup as setup_inspections
from bench.rounds import dispatch, fresh_copy, setup_in_child, summarise

ROUNDS = 3
DUE = 5000
NOW = datetime(2019, 11, 30, 8, 0, tzinfo=BEIJING)


def _setup(db: Path) -> None:
    setup_inspections(db)
    con = bare_sqlite.connect(db)
    con.execute("BEGIN")
    con.execute("UPDATE tasks SET done_at = '2019-11-28 00:00:00.000000', outcome = 'done'")
    con.execute("UPDATE tasks SET done_at = NULL, outcome = NULL, next_notice_at = due_at WHERE id IN "
                "(SELECT min(id) FROM tasks WHERE kind = 'confirm' GROUP BY inspection_id)")
    con.execute("UPDATE tasks SET due_at = '2019-12-19 16:00:00.000000', next_notice_at = '2019-12-19 01:00:00.000000' "
                "WHERE done_at IS NULL AND inspection_id > (SELECT min(id) + ? FROM inspections)", (DUE - 1,))
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _product(db: Path) -> tuple[float, float, int, int]:
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.sweep import sweep
    from workflow.services.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{db}")
    tick = UnitOfWork(engine, now=NOW, actor=SYSTEM, campaign=CODE)
    with tick:
        top = len(tick.plan.escalation.ladder) + 1
        tick.calendar  # loaded once per unit of work, before the timed part, as a tick does
    start = time.perf_counter()
    with tick:
        due = tick.tasks.notice_due(CODE, now=NOW, top=top)
    finding = time.perf_counter() - start
    start = time.perf_counter()
    report = sweep(tick)
    queuing = time.perf_counter() - start
    engine.dispose()
    return finding, queuing, len(due), report.queued


def _bare_find(db: Path) -> tuple[float, int]:
    con = bare_sqlite.connect(db)
    start = time.perf_counter()
    rows = con.execute("SELECT * FROM tasks WHERE campaign_code = ? AND done_at IS NULL AND "
                       "(next_notice_at <= ? OR next_notice_at IS NULL) ORDER BY id",
                       (CODE, "2019-11-30 00:00:00.000000")).fetchall()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, len(rows)


HELD = "campaign_code, task_id, level, stage, step, recipient, cc, item, decided_at, digest_key"


def _bare_queue(db: Path, rows: list[tuple], held: list[tuple]) -> float:
    return bare_sqlite.timed_executemany(
        db, f"INSERT INTO pending_notices ({HELD}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", held,
        begin="BEGIN IMMEDIATE") + bare_sqlite.timed_executemany(
        db, "INSERT INTO outbox (key, message_id, campaign_code, task_id, kind, recipient, template, context, "
            "created_at, not_before, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows, begin="BEGIN IMMEDIATE")

def _bare_list(db: Path) -> float:
    """The floor of the attached list: openpyxl's write-only mode saving the same rows, values only."""
    from openpyxl import Workbook

    con = sqlite3.connect(db)
    usccs = [u for (u,) in con.execute("SELECT e.uscc FROM pending_notices p JOIN tasks t ON t.id = p.task_id "
                                       "JOIN inspections i ON i.id = t.inspection_id JOIN enterprises e "
                                       "ON e.uscc = i.uscc ORDER BY e.uscc")]
    names = dict(con.execute("SELECT uscc, name || '|' || coalesce(address, '') FROM enterprises"))
    con.close()
    start = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("比对确认")
    sheet.append(["抽查任务编号", "部门代码", "统一社会信用代码", "是否检查", "不检查理由", "企业名称", "住所", "检查事项"])
    for u in usccs:
        name, address = names[u].split("|", 1)
        sheet.append([CODE, "SJ", u, None, None, name, address, "SJ-01 …"])
    book.save(OUT / "sweep-baseline-list.xlsx")
    return time.perf_counter() - start


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"sweep: {N:,} open inspections, {DUE:,} due tasks (SQLite)")
    pristine = OUT / "sweep-setup.db"
    print(f"  setup: {setup_in_child('bench.bench_sweep', pristine):.1f} s")
    finds, queues, bare_finds, bare_queues = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        db = fresh_copy(pristine, OUT / "sweep.db")
        finding, queuing, due, queued = _product(db)
        con = sqlite3.connect(db)
        rows = con.execute("SELECT key, message_id, campaign_code, task_id, kind, recipient, template, context, "
                           "created_at, not_before, attempts FROM outbox ORDER BY id").fetchall()
        held = con.execute(f"SELECT {HELD} FROM pending_notices ORDER BY id").fetchall()
        con.close()
        bare_find, found = _bare_find(pristine)
        bare_queue = _bare_queue(fresh_copy(pristine, OUT / "sweep-baseline.db"), rows, held) + _bare_list(db)
        assert found == due and queued == len(rows), (found, due, queued, len(rows))
        bare_queue += bare_find
        finds.append(finding)
        queues.append(queuing)
        bare_finds.append(bare_find)
        bare_queues.append(bare_queue)
        print(f"  round {round_}: finding {finding:.3f} s vs {bare_find:.3f} s ({finding / bare_find:.2f}x); "
              f"the pass, {len(held):,} notices in {queued:,} digest(s), {queuing:.3f} s vs bare SELECT + INSERT {bare_queue:.3f} s "
              f"({queuing / bare_queue:.2f}x)")
    print("  finding the due tasks:")
    summarise(finds, bare_finds, [], baseline="baseline, the bare SELECT of the due rows",
              product="product: TaskRepository.notice_due", ratio_target=3)
    print("  the whole pass (finding and queuing the notices):")
    summarise(queues, bare_queues, [], baseline="baseline, the bare SELECT + bare INSERTs of the same held notices "
                                                "and outbox rows + a write-only XLSX of the same list",
              product="product: sweep.sweep (claim, decide, move the level, hold, audit, digest)", ratio_target=3)


if __name__ == "__main__":
    dispatch(main, setup=lambda a: _setup(Path(a)))
