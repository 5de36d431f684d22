"""``make bench``: run every benchmark but the province one (or those named: ``python -m bench province``)."""

import sys

from bench import (bench_calendar, bench_demo, bench_draw, bench_import, bench_machine, bench_postgres, bench_province,
                   bench_stats, bench_sweep)

BENCHMARKS = {"calendar": bench_calendar.main, "import": bench_import.main, "machine": bench_machine.main,
              "draw": bench_draw.main, "stats": bench_stats.main,
              "sweep": bench_sweep.main, "demo": bench_demo.main,
              "postgres": bench_postgres.main, "province": bench_province.main}


def main(argv: list[str]) -> int:
    names = argv or [name for name in BENCHMARKS if name != "province"]  # province scale: only when named
    for name in names:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
