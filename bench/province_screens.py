"""Province section ``screens``: every screen an office opens at ≈250,000 inspections — ``ssj campaign status``, the
``ssj report …`` commands, and the dashboard's cards (the board, the summary card, the morning report) — each in
its own process, next to a bare aggregate floor measured in the same run; target < 1 s.

Starting point: the seed campaign drawn at 97 % through the product (``drawn("97%")``: ≈257,000 at 3,000,000
enterprises, proportionally fewer at smaller sizes), then moved on **by SQL in the setup** (not timed, kept as a
template): by inspection id, a fifth stays 已抽取, a fifth is 已确认, a fifth 已分派 (one officer per inspecting
department), a fifth 已检查 and three twentieths 已回填 (a result per item, some with problems and handling), one in
twenty 已撤出; the confirmation tasks of the confirmed ones are done. The setup then analyses the tables it wrote,
standing in for the analysis the product runs after its own bulk writes, and vacuums them, standing in for
autovacuum: the setup's UPDATEs leave 1,400,000 dead task rows in the open-task indexes, which autovacuum clears
within minutes and an office reads its screens weeks later. Last, the campaign's counts (``campaign_counts``)
are recounted from those rows, standing in for the product's writes, which keep them as they go. The benchmark
itself never analyses.
The screens are read at 2019-12-20 10:00 (Beijing), when the open confirmations are overdue.

``SSJ_BENCH_SCREENS=status,summary`` times only the screens whose label contains one of the words.
Each figure: the wall time of a fresh interpreter (the ``ssj`` CLI's ``main`` or the dashboard's services,
called as the flows call them — no Prefect server), its peak RSS, and the work time inside it (from after the
imports to the end). The 1 s target is held against the work time: a Python interpreter importing the CLI
costs ≈0.5–1 s on this machine before any work, whatever the screen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg

from bench.bench_import import OUT
from bench.province_common import (CLERK, CODE, PREFIX, drawn, drop, fresh, line, recounted, template, upgraded,
                                   url)
from calendars import BEIJING
from workflow.results import (ABNORMAL_CODES, CASE_HANDLING, CORRECTION_HANDLING, ORDERED_TO_CORRECT,
                              PROBLEM_CODES)

RATIO = "97%"
NOW = datetime(2019, 12, 20, 10, 0, tzinfo=BEIJING)
TARGET = 1.0

def _sql_list(codes) -> str:
    return ", ".join(f"'{code}'" for code in sorted(codes))


ADVANCE = [
    # states by id: 0-3 sampled, 4-7 confirmed, 8-11 assigned, 12-15 inspected, 16-18 reported, 19 withdrawn
    f"""UPDATE inspections SET
          state = CASE WHEN id % 20 < 4 THEN 'sampled' WHEN id % 20 < 8 THEN 'confirmed' WHEN id % 20 < 12
                  THEN 'assigned' WHEN id % 20 < 16 THEN 'inspected' WHEN id % 20 < 19 THEN 'reported'
                  ELSE 'withdrawn' END,
          confirmed_at = CASE WHEN id % 20 BETWEEN 4 AND 18 THEN TIMESTAMPTZ '2019-12-02 10:00+08'
                         + (id % 3) * interval '1 day' END,
          assigned_at = CASE WHEN id % 20 BETWEEN 8 AND 18 THEN TIMESTAMPTZ '2019-12-06 10:00+08' END,
          inspected_at = CASE WHEN id % 20 BETWEEN 12 AND 18 THEN TIMESTAMPTZ '2019-12-10 10:00+08'
                         + (id % 5) * interval '1 day' END,
          visit_date = CASE WHEN id % 20 BETWEEN 12 AND 18 THEN DATE '2019-12-10' + id % 5 END,
          reported_at = CASE WHEN id % 20 BETWEEN 16 AND 18 THEN TIMESTAMPTZ '2019-12-18 10:00+08' END,
          withdrawn_at = CASE WHEN id % 20 = 19 THEN TIMESTAMPTZ '2019-12-05 10:00+08' END,
          withdraw_reason = CASE WHEN id % 20 = 19 THEN '基准测试' END
        WHERE campaign_code = '{CODE}'""",
    f"""UPDATE inspection_departments a SET inspects = (a.inspection_id + length(a.department_code)) % 6 <> 0,
          decline_reason = CASE WHEN (a.inspection_id + length(a.department_code)) % 6 = 0 THEN '不属本部门' END,
          answered_at = i.confirmed_at, answered_by = '{CLERK}', on_behalf = a.inspection_id % 7 = 0
        FROM inspections i
        WHERE i.id = a.inspection_id AND i.campaign_code = '{CODE}' AND i.confirmed_at IS NOT NULL""",
    f"""UPDATE tasks t SET done_at = i.confirmed_at, outcome = 'done' FROM inspections i
        WHERE t.inspection_id = i.id AND t.kind = 'confirm' AND i.campaign_code = '{CODE}'
          AND i.confirmed_at IS NOT NULL""",
    f"""UPDATE tasks t SET done_at = i.withdrawn_at, outcome = 'cancelled' FROM inspections i
        WHERE t.inspection_id = i.id AND t.done_at IS NULL AND i.campaign_code = '{CODE}' AND i.state = 'withdrawn'""",
    f"""INSERT INTO team_members (inspection_id, certificate_no, department_code, specialist, matched_at)
        SELECT a.inspection_id, o.certificate_no, a.department_code, false, i.assigned_at
        FROM inspection_departments a JOIN inspections i ON i.id = a.inspection_id
        JOIN LATERAL (SELECT certificate_no FROM officers WHERE department_code = a.department_code
                      ORDER BY certificate_no OFFSET a.inspection_id % GREATEST(1, (SELECT count(*) FROM officers
                      WHERE department_code = a.department_code)) LIMIT 1) o ON true
        WHERE i.campaign_code = '{CODE}' AND i.assigned_at IS NOT NULL AND a.inspects""",
    f"""INSERT INTO item_results (inspection_id, item_code, questions, recorded_at, recorded_by)
        SELECT a.inspection_id, ci.item_code, (a.inspection_id + length(ci.item_code)) % 3, i.inspected_at, '{CLERK}'
        FROM inspection_departments a JOIN inspections i ON i.id = a.inspection_id
        JOIN campaign_items ci ON ci.campaign_code = i.campaign_code AND ci.department_code = a.department_code
        WHERE i.campaign_code = '{CODE}' AND i.inspected_at IS NOT NULL AND a.inspects""",
    f"""INSERT INTO result_codes (inspection_id, item_code, code)
        SELECT r.inspection_id, r.item_code, CASE (r.inspection_id + length(r.item_code)) % 9 WHEN 0 THEN 'B'
               WHEN 1 THEN 'E' WHEN 2 THEN 'D' ELSE '1' END
        FROM item_results r JOIN inspections i ON i.id = r.inspection_id WHERE i.campaign_code = '{CODE}'""",
    """INSERT INTO result_codes (inspection_id, item_code, code)
        SELECT inspection_id, item_code, 'A' FROM result_codes WHERE code IN ('B', 'D')""",
    """INSERT INTO result_handlings (inspection_id, item_code, handling)
        SELECT inspection_id, item_code, CASE code WHEN '1' THEN 1 WHEN 'E' THEN 2 WHEN 'B' THEN 3 ELSE 4 END
        FROM result_codes WHERE code <> 'A'""",
    # what the product stores with each result it records, by ``workflow.results``' own codes and handlings
    f"""UPDATE item_results r SET problem = c.problem, orders_correction = c.e OR h.h2, abnormal = c.abnormal,
          opens_case = h.h4
        FROM (SELECT inspection_id, item_code, bool_or(code IN ({_sql_list(PROBLEM_CODES)})) AS problem,
                     bool_or(code = '{ORDERED_TO_CORRECT}') AS e, bool_or(code IN ({_sql_list(ABNORMAL_CODES)}))
                     AS abnormal
              FROM result_codes GROUP BY 1, 2) c,
             (SELECT inspection_id, item_code, bool_or(handling = {CORRECTION_HANDLING}) AS h2,
                     bool_or(handling = {CASE_HANDLING}) AS h4
              FROM result_handlings GROUP BY 1, 2) h
        WHERE c.inspection_id = r.inspection_id AND c.item_code = r.item_code
          AND h.inspection_id = r.inspection_id AND h.item_code = r.item_code""",
    "VACUUM ANALYZE inspections, inspection_departments, tasks, team_members, item_results, result_codes, "
    "result_handlings",
]

# (label, argv of the child, floor query or None). The floors are bare aggregates of the same facts.
STATES_FLOOR = f"SELECT state, count(*) FROM inspections WHERE campaign_code = '{CODE}' GROUP BY state"
OVERDUE_FLOOR = (f"SELECT department_code, count(*), min(due_at) FROM tasks WHERE campaign_code = '{CODE}' "
                 f"AND done_at IS NULL AND due_at <= '{NOW.isoformat()}' GROUP BY department_code")
DEPT_FLOOR = (f"SELECT a.department_code, i.state, count(*) FROM inspection_departments a JOIN inspections i "
              f"ON i.id = a.inspection_id WHERE i.campaign_code = '{CODE}' AND a.inspects IS NOT false "
              f"GROUP BY a.department_code, i.state")


def screens(out: Path) -> list[tuple[str, list[str], str]]:
    return [
        ("ssj campaign status", ["cli", "campaign", "status", CODE], STATES_FLOOR),
        ("ssj campaign status --json", ["cli", "campaign", "status", CODE, "--json"], STATES_FLOOR),
        ("ssj report stats (CSV: the table alone)", ["cli", "report", "stats", CODE, "--out", str(out / "s.csv")],
         DEPT_FLOOR),
        ("ssj report stats (XLSX: + one row per enterprise)",
         ["cli", "report", "stats", CODE, "--out", str(out / "s.xlsx")], DEPT_FLOOR),
        ("ssj report summary", ["cli", "report", "summary", CODE, "--out", str(out / "summary.xlsx")], STATES_FLOOR),
        ("ssj report confirmation (+ one row per department answer)",
         ["cli", "report", "confirmation", CODE, "--out", str(out / "c.xlsx")], DEPT_FLOOR),
        ("ssj report overdue (+ one row per overdue task)",
         ["cli", "report", "overdue", CODE, "--out", str(out / "o.xlsx")], OVERDUE_FLOOR),
        ("board: dashboard() (summary card, progress, tables)", ["board"], DEPT_FLOOR),
        ("morning report: prepare_daily_overdue_report()", ["daily", str(out / "daily")], OVERDUE_FLOOR),
    ]


def advanced() -> str:
    """The drawn campaign moved on by SQL (see the module's docstring), as a template database."""
    base = drawn(RATIO)

    def build(database: str) -> None:
        with psycopg.connect(fresh(database, base), autocommit=True) as conn:
            for statement in ADVANCE:
                conn.execute(statement)
        recounted(database)
    return template(f"screens {RATIO} counted", build)


def _floor(database: str, query: str) -> float:
    """A bare aggregate: connect, run, fetch (the best of three)."""
    best = None
    for _ in range(3):
        start = time.perf_counter()
        with psycopg.connect(url(database)) as conn:
            conn.execute(query).fetchall()
        best = min(best or 1e9, time.perf_counter() - start)
    return best


def _child(database: str, argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, work seconds inside) of ``argv`` in a fresh interpreter."""
    env = {**os.environ, "SSJ_DATABASE_URL": url(database, "postgresql+psycopg"), "SSJ_USER": CLERK,
           "SSJ_NOW": NOW.isoformat(), "SSJ_FILES_DIR": str(OUT / "province-screens-files")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.province_screens", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.decode()}{out.decode()}")
    said = json.loads(err.decode().strip().splitlines()[-1])
    return wall, said["rss"], said["work"]


def run() -> None:
    print(f"screens: the seed campaign drawn at {RATIO}, moved on by SQL in the setup; read at {NOW:%Y-%m-%d %H:%M}")
    base = advanced()
    database = f"{PREFIX}_screens"
    fresh(database, base)
    upgraded(database)  # a starting point kept from an earlier checkout: its schema brought up to this one's
    out = OUT / "province-screens"
    out.mkdir(parents=True, exist_ok=True)
    try:
        with psycopg.connect(url(database)) as conn:
            counts = dict(conn.execute(STATES_FLOOR).fetchall())
            tasks = conn.execute(f"SELECT count(*), count(*) FILTER (WHERE done_at IS NULL) FROM tasks "
                                 f"WHERE campaign_code = '{CODE}'").fetchone()
        print(f"  {sum(counts.values()):,} inspections ({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))});"
              f" {tasks[0]:,} tasks, {tasks[1]:,} open")
        chosen = [k.strip() for k in os.environ.get("SSJ_BENCH_SCREENS", "").split(",") if k.strip()]
        for label, argv, floor_query in screens(out):
            if chosen and not any(k in label for k in chosen):
                continue
            floor = _floor(database, floor_query)
            wall, rss, work = _child(database, argv)
            print(line(f"floor: bare aggregate for {label.split(' (')[0]}", floor))
            print(line(f"{label}: wall", wall, rss=rss))
            print(line(f"{label}: work (after imports)", work))
            print(f"  ratio: work {work / floor:.2f}x the floor; work {work:.2f} s, target < 1 s "
                  f"({'met' if work < TARGET else 'NOT met'}); wall {wall:.2f} s")
    finally:
        drop(database)


# --- the child: one screen in a fresh interpreter --------------------------------------------------------------

def _report(work: float) -> None:
    from bench.rounds import own_peak_mb

    print(json.dumps({"work": work, "rss": own_peak_mb()}), file=sys.stderr)


def _uow(changes: bool):
    from workflow.identity import SYSTEM
    from workflow.persistence.database import database_url, make_engine
    from workflow.services.uow import UnitOfWork

    return UnitOfWork(make_engine(database_url()), now=datetime.fromisoformat(os.environ["SSJ_NOW"]), actor=SYSTEM,
                      campaign=CODE, changes=changes)


def child(argv: list[str]) -> None:
    from importlib import import_module

    for name in ("psycopg", "alembic.config", "alembic.script"):
        import_module(name)  # the driver and the migration tool, imported lazily by the engine: before the clock
    if argv[0] == "cli":
        from ssj.cli import run as main
        from importlib import import_module

        for name in ("ssj.commands.campaign", "workflow.services.campaigns", "workflow.services.overdue",
                     "workflow.services.reports", "workflow.files.statistics_table"):
            import_module(name)  # what the commands import lazily: imported before the clock starts

        start = time.perf_counter()
        code = main(argv[1:])
        if code:
            raise SystemExit(code)
        _report(time.perf_counter() - start)
        return
    from workflow.services.dashboard import dashboard
    from workflow.services.overdue import prepare_daily_overdue_report

    start = time.perf_counter()
    if argv[0] == "board":
        board = dashboard(_uow(False))
        print(board.markdown)
    else:
        report = prepare_daily_overdue_report(_uow(True), Path(argv[1]))
        print(report.path, report.overdue)
    _report(time.perf_counter() - start)


if __name__ == "__main__":
    child(sys.argv[1:])
