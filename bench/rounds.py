"""Alternating rounds, best of each: how the benchmarks report on a shared, noisy machine."""

from __future__ import annotations


def summarise(products: list[float], baselines: list[float], peaks: list[float], *, baseline: str, product: str,
              ratio_target: float, rss_label: str, rss_target: int) -> None:
    best, base = min(products), min(baselines)
    width = max(len(baseline), len(product))
    print(f"  {(baseline + " (best)").ljust(width + 7)} : {base:7.2f} s")
    print(f"  {(product + " (best)").ljust(width + 7)} : {best:7.2f} s")
    print(f"  ratio: {best / base:.2f}x (target ≤ {ratio_target:g}x)")
    print(f"  {rss_label}: {max(peaks):.0f} MB (target < {rss_target} MB)")
