"""The benchmarks still run (at a toy size: the figures themselves belong to ``make bench``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stress  # each benchmark run small: make stress

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("name, env", [("machine", {"SSJ_BENCH_INSPECTIONS": "300"}),
                                       ("stats", {"SSJ_BENCH_INSPECTIONS": "300"}),
                                       ("sweep", {"SSJ_BENCH_INSPECTIONS": "300"}),
                                       ("draw", {"SSJ_BENCH_ROWS": "3000"}),
                                       ("province", {"SSJ_BENCH_ENTERPRISES": "3000"})])
def test_a_benchmark_runs_and_reports_its_ratio(name, env):
    result = subprocess.run([sys.executable, "-m", "bench", name], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ratio:" in result.stdout
    assert "(best)" in result.stdout or name == "province", "province is one round: its sizes are large"
