"""The statistics table for a campaign of 100,000 inspections, against bare SQL GROUP BY queries.

Setup (not timed, a child process): the machine benchmark's 100,000 drawn inspections, then by SQL:
every enterprise inspected by SJ and SW (the others decline), a two-officer team, a visit, and a
result for each of its four items — mostly 未发现问题, with findings, 责令改正, 应列入异常 and
立案 mixed in — and questions answered; then the campaign's counts recounted from those rows, standing in
for the product's writes, which keep them as they go.

Product: ``services.reports.statistics``, which reads the campaign's kept counts (``campaign_counts``);
and apart, the recount those counts are kept equal to (``persistence.counts.tally``: a few aggregates
through SQLAlchemy — what ``ssj audit verify`` runs, and a read of counts not kept yet). Baseline:
hand-written SQL through ``sqlite3`` producing the same numbers (checked equal, both). Writing the XLSX
is measured and reported apart.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from calendars import BEIJING
from bench import bare_sqlite
from bench.bench_machine import CLERK, N, OUT, _setup as setup_inspections
from bench.rounds import dispatch, setup_in_child, summarise
from workflow.results import COUNTED, ItemResult, counted_as

ROUNDS = 3
CODE = "luquan-2019-h2"
LIVE = "i.campaign_code = 'luquan-2019-h2' AND i.state != 'withdrawn'"
ITEMS = ("SJ-01", "SJ-02", "SJ-03", "SW-01")


def _setup(db: Path) -> None:
    setup_inspections(db)
    con = bare_sqlite.connect(db)
    con.execute("BEGIN")
    con.execute("UPDATE inspection_departments SET inspects = department_code IN ('SJ', 'SW'), "
                "decline_reason = CASE WHEN department_code IN ('SJ', 'SW') THEN NULL ELSE '不涉及' END")
    officers = {d: [f"1301100{n}{k:03d}" for k in range(1, 9)] for n, d in ((1, "SJ"), (2, "SW"))}
    stamp = "2019-12-01 00:00:00.000000"
    con.executemany("INSERT INTO officers (certificate_no, name, department_code, certificate_valid_until, status, "
                    "in_latest_directory, created_at, updated_at) VALUES (?, ?, ?, '2025-01-01', '在岗', 1, ?, ?)",
                    [(c, f"人员{c[-4:]}", d, stamp, stamp) for d, certs in officers.items() for c in certs])
    ids = [r[0] for r in con.execute("SELECT id FROM inspections ORDER BY id")]
    con.executemany("INSERT INTO team_members (inspection_id, certificate_no, department_code, specialist, matched_at) "
                    "VALUES (?, ?, ?, 0, ?)",
                    [(i, officers[d][i % 8], d, stamp) for i in ids for d in ("SJ", "SW")])
    con.execute("UPDATE inspections SET state = 'reported', visit_date = '2019-12-10'")
    results, codes, handling = [], [], []
    kinds = {0: ("E", (2,)), 1: ("AB", (3,)), 2: ("A5", (4, 5)), 3: ("AD", (2,))}
    for n, i in enumerate(ids):
        for k, item in enumerate(ITEMS):
            kind = (n * 7 + k) % 20
            questions = 1 if kind == 3 else 0
            its_codes, its_handling = kinds.get(kind, ("1", ()))
            counted = counted_as(ItemResult(item, frozenset(its_codes), handling=frozenset(its_handling)))
            results.append((i, item, "问题" if kind < 4 else None, questions, stamp, "bench", *counted))
            codes += [(i, item, code) for code in its_codes]
            handling += [(i, item, h) for h in its_handling]
    con.executemany("INSERT INTO item_results (inspection_id, item_code, finding, questions, recorded_at, recorded_by, "
                    f"{', '.join(COUNTED)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
    con.executemany("INSERT INTO result_codes (inspection_id, item_code, code) VALUES (?, ?, ?)", codes)
    con.executemany("INSERT INTO result_handlings (inspection_id, item_code, handling) VALUES (?, ?, ?)", handling)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    _recount(db)


def _recount(db: Path) -> None:
    from workflow.persistence.counts import recount
    from workflow.persistence.database import make_engine

    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        recount(conn, CODE)
    engine.dispose()


def _product(db: Path) -> tuple[float, list, float, float, list]:
    """(the table from the kept counts: seconds, numbers; writing the XLSX; the recount: seconds, numbers)."""
    from workflow.campaign_counts import statistics_rows
    from workflow.persistence.counts import contents, tally
    from workflow.persistence.database import make_engine
    from workflow.services.reports import statistics, write_statistics
    from workflow.services.uow import UnitOfWork

    engine = make_engine(f"sqlite:///{db}")
    office = UnitOfWork(engine, now=datetime(2019, 12, 17, tzinfo=BEIJING), actor=CLERK, campaign=CODE)
    with office:
        office.plan  # loaded before the timed part
        start = time.perf_counter()
        rows = statistics(office)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        recounted = statistics_rows(tally(office.conn, code=CODE)[CODE], [(d.code, d.code) for d in
                                                                         office.plan.departments],
                                    contents(office.conn))
        recount = time.perf_counter() - start
    start = time.perf_counter()
    write_statistics(office, OUT / "stats.xlsx")
    xlsx = time.perf_counter() - start
    engine.dispose()
    return elapsed, [r.cells() for r in rows], xlsx, recount, [r.cells() for r in recounted]


_ITEM = "JOIN inspection_items it ON it.code = {t}.item_code JOIN inspections i ON i.id = {t}.inspection_id"
BARE = {
    "enterprises": ("SELECT count(*) FROM inspections i WHERE " + LIVE,
                    "SELECT a.department_code, count(DISTINCT a.inspection_id) FROM inspection_departments a "
                    "JOIN inspections i ON i.id = a.inspection_id WHERE a.inspects = 1 AND " + LIVE
                    + " GROUP BY a.department_code"),
    "officer_pairs": ("SELECT count(*) FROM team_members tm JOIN inspections i ON i.id = tm.inspection_id WHERE "
                      "tm.specialist = 0 AND tm.released_at IS NULL AND " + LIVE,
                      "SELECT tm.department_code, count(*) FROM team_members tm JOIN inspections i ON i.id = "
                      "tm.inspection_id WHERE tm.specialist = 0 AND tm.released_at IS NULL AND " + LIVE
                      + " GROUP BY tm.department_code"),
    "departments": ("SELECT count(DISTINCT a.department_code) FROM inspection_departments a JOIN inspections i "
                    "ON i.id = a.inspection_id WHERE a.inspects = 1 AND " + LIVE, None),
    "items": ("SELECT count(DISTINCT r.item_code) FROM item_results r " + _ITEM.format(t="r") + " WHERE " + LIVE,
              "SELECT it.department_code, count(DISTINCT r.item_code) FROM item_results r " + _ITEM.format(t="r")
              + " WHERE " + LIVE + " GROUP BY it.department_code"),
    "contents": ("SELECT count(*) FROM inspection_item_contents c WHERE c.item_code IN (SELECT r.item_code FROM "
                 "item_results r " + _ITEM.format(t="r") + " WHERE " + LIVE + ")",
                 "SELECT it.department_code, count(*) FROM inspection_item_contents c JOIN inspection_items it ON "
                 "it.code = c.item_code WHERE c.item_code IN (SELECT r.item_code FROM item_results r "
                 + _ITEM.format(t="r") + " WHERE " + LIVE + ") GROUP BY it.department_code"),
    "problem_items": ("SELECT count(*) FROM (SELECT DISTINCT rc.inspection_id, rc.item_code FROM result_codes rc "
                      + _ITEM.format(t="rc") + " WHERE rc.code IN ('E','A','B','C','6','D','3','4','5','8') AND "
                      + LIVE + ")",
                      "SELECT dept, count(*) FROM (SELECT DISTINCT rc.inspection_id, rc.item_code, it.department_code "
                      "AS dept FROM result_codes rc " + _ITEM.format(t="rc")
                      + " WHERE rc.code IN ('E','A','B','C','6','D','3','4','5','8') AND " + LIVE + ") GROUP BY dept"),
    "problem_enterprises": ("SELECT count(DISTINCT rc.inspection_id) FROM result_codes rc " + _ITEM.format(t="rc")
                            + " WHERE rc.code IN ('E','A','B','C','6','D','3','4','5','8') AND " + LIVE,
                            "SELECT it.department_code, count(DISTINCT rc.inspection_id) FROM result_codes rc "
                            + _ITEM.format(t="rc") + " WHERE rc.code IN ('E','A','B','C','6','D','3','4','5','8') AND "
                            + LIVE + " GROUP BY it.department_code"),
    "ordered_to_correct": (
        "SELECT count(DISTINCT iid) FROM (SELECT rc.inspection_id AS iid FROM result_codes rc " + _ITEM.format(t="rc")
        + " WHERE rc.code = 'E' AND " + LIVE + " UNION SELECT rh.inspection_id FROM result_handlings rh "
        + _ITEM.format(t="rh") + " WHERE rh.handling = 2 AND " + LIVE + ")",
        "SELECT dept, count(DISTINCT iid) FROM (SELECT rc.inspection_id AS iid, it.department_code AS dept FROM "
        "result_codes rc " + _ITEM.format(t="rc") + " WHERE rc.code = 'E' AND " + LIVE + " UNION SELECT "
        "rh.inspection_id, it.department_code FROM result_handlings rh " + _ITEM.format(t="rh")
        + " WHERE rh.handling = 2 AND " + LIVE + ") GROUP BY dept"),
    "abnormal": ("SELECT count(DISTINCT rc.inspection_id) FROM result_codes rc " + _ITEM.format(t="rc")
                 + " WHERE rc.code IN ('B','C','6') AND " + LIVE,
                 "SELECT it.department_code, count(DISTINCT rc.inspection_id) FROM result_codes rc "
                 + _ITEM.format(t="rc") + " WHERE rc.code IN ('B','C','6') AND " + LIVE + " GROUP BY it.department_code"),
    "case_opened": ("SELECT count(DISTINCT rh.inspection_id) FROM result_handlings rh " + _ITEM.format(t="rh")
                    + " WHERE rh.handling = 4 AND " + LIVE,
                    "SELECT it.department_code, count(DISTINCT rh.inspection_id) FROM result_handlings rh "
                    + _ITEM.format(t="rh") + " WHERE rh.handling = 4 AND " + LIVE + " GROUP BY it.department_code"),
    "questions": ("SELECT coalesce(sum(r.questions), 0) FROM item_results r " + _ITEM.format(t="r") + " WHERE " + LIVE,
                  "SELECT it.department_code, sum(r.questions) FROM item_results r " + _ITEM.format(t="r")
                  + " WHERE " + LIVE + " GROUP BY it.department_code"),
}


def _baseline(db: Path, departments: list[str]) -> tuple[float, list]:
    from workflow.statistics import COLUMNS

    con = bare_sqlite.connect(db)
    start = time.perf_counter()
    total, per = {}, {}
    for key, (total_sql, grouped_sql) in BARE.items():
        total[key] = con.execute(total_sql).fetchone()[0]
        per[key] = dict(con.execute(grouped_sql).fetchall()) if grouped_sql else {}
    elapsed = time.perf_counter() - start
    con.close()
    rows = [[total[k] for k, _ in COLUMNS]]
    for dept in departments:
        values = {k: per[k].get(dept, 0) for k, _ in COLUMNS}
        values["departments"] = 1 if values["enterprises"] else 0
        rows.append([values[k] for k, _ in COLUMNS])
    return elapsed, rows


def main() -> None:
    OUT.mkdir(exist_ok=True)
    print(f"stats: the statistics table over {N:,} back-filled inspections (SQLite)")
    db = OUT / "stats.db"
    print(f"  setup: {setup_in_child('bench.bench_stats', db):.1f} s")
    from ssj.demo import seed_campaign_source
    from workflow.campaign_file import parse_campaign

    departments = [d.code for d in parse_campaign(seed_campaign_source()).departments]
    products, baselines, writes, recounts = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        product, numbers, xlsx, recount, recounted = _product(db)
        baseline, bare_numbers = _baseline(db, departments)
        assert numbers == bare_numbers, (numbers, bare_numbers)
        assert recounted == bare_numbers, (recounted, bare_numbers)
        products.append(product)
        baselines.append(baseline)
        writes.append(xlsx)
        recounts.append(recount)
        print(f"  round {round_}: product {product:.3f} s, recount {recount:.2f} s, baseline {baseline:.2f} s, "
              f"ratios {product / baseline:.3f}x / {recount / baseline:.2f}x; writing the XLSX {xlsx:.2f} s")
    print(f"  total row: {numbers[0]}")
    summarise(products, baselines, [], baseline="baseline, hand-written GROUP BY queries through sqlite3",
              product="product: services.reports.statistics (the kept counts)", ratio_target=2)
    summarise(recounts, baselines, [], baseline="baseline, hand-written GROUP BY queries through sqlite3",
              product="the recount (persistence.counts.tally)", ratio_target=2)
    print(f"  writing the XLSX (both sheets, {N:,} enterprise rows), best: {min(writes):.2f} s")


if __name__ == "__main__":
    dispatch(main, setup=lambda a: _setup(Path(a)))
