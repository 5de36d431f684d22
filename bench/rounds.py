"""Alternating rounds, best of each: how the benchmarks report on a shared, noisy machine."""

from __future__ import annotations

from pathlib import Path


def report_work(seconds: float) -> None:
    """A product process's last line: its work time and its own peak RSS (VmHWM, fresh at exec).

    ``wait4``'s figure would also count the parent's memory at fork time."""
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    print(f"WORK {seconds:.4f} {int(hwm.split()[1]) / 1024:.1f}")


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
