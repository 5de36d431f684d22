"""Province scale on PostgreSQL (issue 19): every hot path next to its floor, measured in the same run.

``python -m bench province`` runs every section; ``SSJ_BENCH_SECTIONS=import,draw`` some of them. Sizes and
server: see ``bench/province_common.py`` (``SSJ_BENCH_ENTERPRISES``, ``SSJ_BENCH_DATABASE_URL``,
``SSJ_BENCH_KEEP``). Each section is a module ``bench/province_<name>.py`` with a ``run()`` that prints its
figures; the databases it starts from are built through the product (``ssj import``, ``ssj draw``) and never
analysed by the benchmark where the product would not.
"""

from __future__ import annotations

import importlib
import os

from sqlalchemy.engine import make_url

from bench.province_common import ADMIN, ENTERPRISES, drop_templates

SECTIONS = ("import", "draw", "screens", "sweep", "send", "tick", "escalated")


def main() -> None:
    chosen = [s.strip() for s in os.environ.get("SSJ_BENCH_SECTIONS", ",".join(SECTIONS)).split(",") if s.strip()]
    print(f"province: {ENTERPRISES:,} enterprises on PostgreSQL ({make_url(ADMIN).host})")
    try:
        for name in chosen:
            try:
                module = importlib.import_module(f"bench.province_{name}")
            except ModuleNotFoundError:
                print(f"{name}: not written yet")
                continue
            module.run()
    finally:
        drop_templates()
