"""Province section ``escalated``: the board a week after the first overdue wave, nothing answered.

Starting point (built once, kept as a template database like the others): the ``send`` section's wave (the seed
campaign drawn at 10 %, swept at its first overdue instant, the wave queued), its mail marked sent by SQL (setup:
the ``send`` section times sending it), then moved on by ``ssj tick --no-mail`` at each notice instant of the week
after the confirmations' deadline: every unanswered confirmation climbs its ladder to the office (about 180,000
tasks of 25,827 enterprises at its top).

Product: the board the Prefect tick publishes (``workflow.services.dashboard``) at the week's end, in a process of
its own, its work after imports, three times (the first reads the copy from disk). There is no floor: the target
is absolute (a screen under 1 s, issue 19, point 3). The escalated card is the part that grows with such a wave:
it names a few of the enterprises the office now chases and counts them all.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import psycopg

from bench.province_common import CODE, PREFIX, drop, fresh, line, ssj, template, url
from bench.province_send import _wave
from bench.province_sweep import _instants
from bench.rounds import ROOT, read_work

WEEK = timedelta(days=7)


def unanswered() -> str:
    """The starting point: the wave sent, then a week of ticks with nothing answered."""
    base = _wave()

    def build(database: str) -> None:
        fresh(database, base)
        with psycopg.connect(url(database)) as conn:
            conn.execute("UPDATE outbox SET state = '已发', sent_at = not_before WHERE sent_at IS NULL")
        end = _instants(database)[1] + WEEK
        while True:
            at = _instants(database)[0]
            if at is None or at > end:
                return
            ssj(database, "tick", CODE, "--no-mail", now=at)
    return template("a week unanswered", build)


def run() -> None:
    print("escalated: the board a week after the first overdue wave of the seed campaign at 10%, nothing answered")
    name = unanswered()
    database = f"{PREFIX}_escalated"
    try:
        fresh(database, name)
        end = _instants(database)[1] + WEEK
        with psycopg.connect(url(database)) as conn:
            levels = conn.execute("SELECT escalation_level, count(*), count(DISTINCT inspection_id) FROM tasks "
                                  "WHERE done_at IS NULL GROUP BY 1 ORDER BY 1").fetchall()
        runs = []
        for _ in range(3):
            proc = subprocess.run([sys.executable, "-m", "bench.province_tick", "--board",
                                   url(database, "postgresql+psycopg"), end.isoformat()], cwd=ROOT, check=True,
                                  stdout=subprocess.PIPE, text=True)
            runs.append(read_work(proc.stdout))
    finally:
        drop(database)
    print("  open tasks by level (level: tasks / enterprises): "
          + ", ".join(f"{level}: {tasks:,} / {enterprises:,}" for level, tasks, enterprises in levels))
    for n, (seconds, rss) in enumerate(runs, start=1):
        print(line(f"board: dashboard() at {end.isoformat()}, run {n} (work)", seconds, rss=rss))
    print(f"  target: under 1 s (issue 19, point 3); best {min(s for s, _ in runs):.2f} s")
