"""Province section ``draw``: ``ssj draw commit`` + ``ssj draw run`` of the seed campaign at 10 % over the whole
directory — the path users run, the department lists and notices included — vs its floor.

Product: the two commands, each in its own process, on a copy of the imported directory with the campaign
created (wall time, the larger peak RSS). Floor, in the same run and database: psycopg alone running the
eligibility SELECT, the USCCs sorted, joined and hashed once (SHA-256).
"""

from __future__ import annotations

import hashlib
import time

import psycopg

from bench.province_common import PREFIX, campaign, directory, draw, drop, fresh, line

RATIO = "10%"
BARE_QUERY = (
    "SELECT e.uscc FROM enterprises e WHERE e.in_latest_directory AND e.category IN ('内资企业') "
    "AND e.status IN ('存续', '在业') AND e.established_on <= '2019-11-27' AND e.registered_capital >= 500 "
    "AND e.registered_capital <= 1000 AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.uscc = e.uscc "
    "AND i.inspected_at >= '2018-11-26 16:30:00+00')"
)


def _floor(url: str) -> tuple[float, int]:
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        usccs = [row[0] for row in conn.execute(BARE_QUERY)]
        hashlib.sha256("\n".join(sorted(usccs)).encode("utf-8")).hexdigest()
        return time.perf_counter() - start, len(usccs)


def run() -> None:
    print(f"draw: the seed campaign at {RATIO} (draw commit + draw run, dispatch lists included)")
    database = f"{PREFIX}_draw"
    url = fresh(database, directory())
    try:
        campaign(database, RATIO)
        product, rss, said = draw(database)
        floor, eligible = _floor(url)
        with psycopg.connect(url) as conn:
            drawn = conn.execute("SELECT count(*) FROM inspections").fetchone()[0]
            tasks = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    finally:
        drop(database)
    print(f"  {eligible:,} eligible, {drawn:,} drawn, {tasks:,} tasks")
    print(line("floor: bare SELECT of the eligible USCCs + one SHA-256", floor))
    print(line("ssj draw commit + ssj draw run", product, floor, rss=rss))
    print(f"  ratio: {product / floor:.2f}x (target ≤ 2x)")
