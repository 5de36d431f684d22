"""``make demo``'s wall time after installation, Prefect start included, against Prefect's own floor.

Product: ``ssj demo`` (what ``make demo`` runs) in a fresh folder with a fresh
``PREFECT_HOME``, as on a fresh clone: it builds and imports the 30,000-enterprise
district, starts Prefect's local API from nothing, and moves the seed campaign
through tens of flow runs. Baseline, in the same run: a process that imports
Prefect and runs one empty flow against a fresh local API — the cost any Prefect
program pays before doing anything. Two rounds each, best reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 2
TARGET = 90.0
_FLOOR = """
from prefect import flow

@flow
def nothing():
    return 1

nothing()
"""


def _timed(args: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="ssj-bench-demo-") as folder:
        env = {**os.environ, "PREFECT_HOME": str(Path(folder) / ".prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        env.pop("SSJ_DATABASE_URL", None)
        start = time.perf_counter()
        subprocess.run(args, cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    ssj = str(Path(sys.executable).with_name("ssj"))
    demo, floor = [], []
    for _ in range(ROUNDS):
        floor.append(_timed([sys.executable, "-c", _FLOOR]))
        demo.append(_timed([ssj, "demo", "--out", "demo-out"]))
    best, base = min(demo), min(floor)
    print("demo: ssj demo (make demo) in a fresh folder, fresh PREFECT_HOME, after installation")
    print(f"  baseline, one empty Prefect flow on a fresh local API : {base:7.1f} s (rounds {', '.join(f'{f:.1f}' for f in floor)})")
    print(f"  ssj demo, the seed campaign end to end                : {best:7.1f} s (rounds {', '.join(f'{d:.1f}' for d in demo)})")
    print(f"  ratio {best / base:.1f}x the Prefect floor; {best:.1f} s against the {TARGET:.0f} s target")
