"""Province section ``import``: ``ssj import enterprises`` of the whole directory vs ``COPY`` of the same CSV.

Product: the installed ``ssj import enterprises`` in its own process on a fresh, initialised database (every
check, all-or-nothing, the import record and its audit row, the ANALYZE it runs after committing): wall time
and that process's own peak RSS (``PeakWatch``). Floor, in the same run and database: psycopg's ``COPY … FROM STDIN
(FORMAT csv)`` of the same file into a table of the same columns and types with the same unique index on the
USCC, committed.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from bench.province_common import COMMIT_AT, ENTERPRISES, PREFIX, csv_directory, drop, initialised, line, ssj, url

COLUMNS = ("uscc", "name", "category", "kind", "registered_capital", "established_on", "status", "district",
           "address", "legal_representative", "phone", "industry", "credit_risk")


def _copy_floor(database: str, path: Path) -> float:
    with psycopg.connect(url(database)) as conn:
        conn.execute(f"CREATE TABLE floor_enterprises AS SELECT {', '.join(COLUMNS)} FROM enterprises WITH NO DATA")
        conn.execute("CREATE UNIQUE INDEX floor_enterprises_uscc ON floor_enterprises (uscc)")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY floor_enterprises ({', '.join(COLUMNS)}) "
                                            "FROM STDIN (FORMAT csv, HEADER true)") as copy, open(path, "rb") as fh:
            if fh.read(3) != b"\xef\xbb\xbf":
                fh.seek(0)
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM floor_enterprises").fetchone()[0]
    if rows != ENTERPRISES:
        raise SystemExit(f"COPY floor loaded {rows:,} rows, expected {ENTERPRISES:,}")
    return elapsed


def run() -> None:
    path = csv_directory() / "enterprises.csv"
    print(f"import: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    database = f"{PREFIX}_import"
    initialised(database)
    try:
        product, rss, said = ssj(database, "import", "enterprises", str(path), now=COMMIT_AT)
        print(f"  {said.splitlines()[-1] if said else ''}")
        floor = _copy_floor(database, path)
    finally:
        drop(database)
    print(line("floor: COPY of the CSV into a same-shaped table, unique USCC", floor))
    print(line("ssj import enterprises (validated, all-or-nothing)", product, floor, rss=rss))
    print(f"  ratio: {product / floor:.2f}x (target ≤ 2x); peak RSS {rss:.0f} MB (target < 300 MB)")
