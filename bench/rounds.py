"""Alternating rounds, best of each: how the benchmarks report on a shared, noisy machine."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_in_child(module: str, db: Path) -> float:
    """A benchmark's setup in a child process, so the measured processes start small; returns its seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", module, "--setup", str(db)], check=True, cwd=ROOT)
    return time.perf_counter() - started


def fresh_copy(source: Path, target: Path) -> Path:
    """``target`` becomes a copy of the SQLite file ``source`` (stale WAL files removed first)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, target)
    return target


def own_peak_mb(pid: int | str = "self") -> float:
    """A process's own peak RSS in MB (VmHWM, fresh at exec). ``wait4``'s and ``getrusage``'s figures would also
    count the memory of the parent it was spawned from."""
    hwm = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return int(hwm.split()[1]) / 1024


def report_work(seconds: float) -> None:
    """A product process's last line: its work time and its own peak RSS."""
    print(f"WORK {seconds:.4f} {own_peak_mb():.1f}")


def read_work(stdout: str) -> tuple[float, float]:
    """(work seconds, peak RSS MB) from a product process's output."""
    words = stdout.split()
    return float(words[-2]), float(words[-1])


def summarise(products: list[float], baselines: list[float], peaks: list[float], *, baseline: str, product: str,
              ratio_target: float, rss_label: str | None = None, rss_target: int = 0) -> None:
    best, base = min(products), min(baselines)
    width = max(len(baseline), len(product))
    print(f"  {(baseline + ' (best)').ljust(width + 7)} : {base:7.2f} s")
    print(f"  {(product + ' (best)').ljust(width + 7)} : {best:7.2f} s")
    print(f"  ratio: {best / base:.2f}x (target ≤ {ratio_target:g}x)")
    if rss_label:
        print(f"  {rss_label}: {max(peaks):.0f} MB (target < {rss_target} MB)")


def dispatch(main, **roles) -> None:
    """``python -m bench.<name> [--<role> ARG]``: the role's function with ARG (a file or URL), else the benchmark.

    The benchmarks run their setup and the measured product in child processes of
    their own (``--setup``, ``--product`` …), so each starts small and reports its own peak RSS."""
    role = sys.argv[1][2:] if len(sys.argv) > 2 and sys.argv[1].startswith("--") else None
    if role in roles:
        roles[role](sys.argv[2])
    else:
        main()
