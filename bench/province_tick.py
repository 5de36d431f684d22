"""Province section ``tick``: an idle tick (nothing due, nothing to send) at about 1,000,000 open tasks.

Starting point (built once, kept as a template database): ``drawn("60%")`` — the seed campaign drawn at 60 % and
dispatched through the product (≈150,000 inspections and ≈1,000,000 open tasks at 3,000,000 enterprises) —
then the tick after the draw (``ssj tick --no-mail`` a quarter of an hour later: every task's first notice
planned), and the mail the draw and that tick queued marked sent by SQL (setup, not timed). Each run's copy is
vacuumed before the ticks (not timed), standing in for autovacuum: the planning tick rewrote a million task rows
and left their old versions in the open-task indexes, which autovacuum clears within a minute on the database
where it happened — but a template's copy starts without the statistics that would tell autovacuum to, and the
idle tick's due-set read would walk a million dead entries.

Product: ``ssj tick`` — what cron or the office's quarter-hourly job runs (the mailbox pass, the timeline's
steps, the sweep, the send, the mail verdict) — in its own process, a quarter of an hour after that tick, with
SMTP configured (a port nobody listens on: an idle tick claims nothing and never connects); wall time and peak
RSS. Then, for the Prefect tick, the dashboard the flow publishes after it (``workflow.services.dashboard``) in a
process of its own. Where the time goes: the same ``ssj tick`` under cProfile (not timed), its largest
cumulative entries. There is no floor: the target is absolute (under 1 s, issue 19, point 5).

The product's own modules are compiled to bytecode before the timed runs, as ``pip install`` compiles an
installed package's (it did this environment's dependencies'): this editable checkout under
``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile some 130 modules from source in every timed process.
"""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
import time
from datetime import datetime, timedelta

import psycopg

from bench.bench_import import OUT
from bench.province_common import (CLERK, CODE, PREFIX, RUN_AT, SSJ, drawn, drop, fresh, line, recounted, ssj,
                                   template, url)
from bench.rounds import ROOT

RATIO = "60%"
PLANNED_AT = RUN_AT + timedelta(minutes=15)  # the tick after the draw
IDLE_AT = RUN_AT + timedelta(minutes=30)  # the next one: nothing due
SMTP = {"SSJ_SMTP_HOST": "127.0.0.1", "SSJ_SMTP_PORT": "9"}  # configured; never reached by an idle tick


def planned() -> str:
    """The starting point: drawn at ``RATIO``, its first notices planned by a tick, its queued mail marked sent."""
    base = drawn(RATIO)

    def build(database: str) -> None:
        fresh(database, base)
        ssj(database, "tick", CODE, "--no-mail", now=PLANNED_AT)
        with psycopg.connect(url(database)) as conn:
            conn.execute("UPDATE outbox SET state = '已发', sent_at = %s WHERE sent_at IS NULL", (PLANNED_AT,))
    return template(f"planned {RATIO}", build)


def board(database_url: str, now: datetime = IDLE_AT) -> None:
    """Its own process: ``python -m bench.province_tick --board URL [NOW]``; the dashboard of the Prefect tick at
    ``now`` (default the idle tick's instant)."""
    from bench.rounds import report_work
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.dashboard import dashboard
    from workflow.services.uow import UnitOfWork

    engine = make_engine(database_url)
    start = time.perf_counter()
    dashboard(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE, changes=False))
    report_work(time.perf_counter() - start)


def _compiled() -> None:
    """The product's modules as an installed package has them: compiled once (``__pycache__``, not committed)."""
    packages = [str(ROOT / name) for name in ("ssj", "workflow", "calendars")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL)


def _profiled(database: str) -> list[str]:
    """``ssj tick`` under cProfile: its largest cumulative entries, as lines."""
    path = OUT / "province-tick.prof"
    env = {**os.environ, **SMTP, "SSJ_DATABASE_URL": url(database, "postgresql+psycopg"), "SSJ_USER": CLERK,
           "SSJ_NOW": IDLE_AT.isoformat()}
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(path), SSJ, "tick", CODE], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stats = pstats.Stats(str(path))
    cumulative = {}
    for (file, _, name), (_, _, _, seconds, _) in stats.stats.items():
        for label, (where, what) in PARTS.items():
            if file.endswith(where) and name == what:
                cumulative[label] = cumulative.get(label, 0) + seconds
    total = stats.total_tt
    return [f"    {cumulative.get(label, 0):6.2f} s {100 * cumulative.get(label, 0) / total:5.1f} %  {label}"
            for label in PARTS] + [f"    {total:6.2f} s 100.0 %  the whole process under cProfile"]


# The parts of ``ssj tick`` worth naming: (file, function) whose cumulative time is shown.
PARTS = {
    "start-up: importing modules, wherever it happens (each command imports what it uses)":
        ("<frozen importlib._bootstrap>", "_find_and_load"),
    "  of which importing the command line (ssj/cli.py)": ("ssj/cli.py", "<module>"),
    "start-up: the engine, its driver and the schema check (ready_engine)": ("persistence/database.py", "ready_engine"),
    "the mailbox pass (configured_pass; only when a mailbox is named)": ("services/mailbox.py", "configured_pass"),
    "the timeline's steps and the sweep (advance)": ("services/tick.py", "advance"),
    "  of which the sweep": ("services/sweep.py", "sweep"),
    "the send (send_outbox)": ("services/outbox.py", "send_outbox"),
    "the mail verdict (judge_mail)": ("services/mail_health.py", "judge_mail"),
    "the mail problems (mail_problems)": ("services/outbox.py", "mail_problems"),
}


def _bare_process(database: str) -> float:
    """For context (the target is absolute, the machine shared): the wall time of a Python process that imports
    SQLAlchemy and psycopg, connects and runs one SELECT — what any ``ssj`` command costs before its own work."""
    code = (f"import sqlalchemy, psycopg; c = sqlalchemy.create_engine({url(database, 'postgresql+psycopg')!r})"
            ".connect(); c.exec_driver_sql('SELECT 1'); c.close()")
    best = None
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best or 1e9, time.perf_counter() - start)
    return best


def run() -> None:
    print(f"tick: an idle tick (nothing due, nothing to send), the seed campaign at {RATIO}")
    name = planned()
    database = f"{PREFIX}_tick"
    try:
        fresh(database, name)
        ssj(database, "init", "--simulation")  # a starting point built before this checkout's migrations: upgraded
        recounted(database)  # its counts, as the product keeps them (else the first tick recounts them, once)
        with psycopg.connect(url(database), autocommit=True) as conn:
            conn.execute("VACUUM tasks, outbox")  # standing in for autovacuum (see the module's docstring)
        _compiled()
        with psycopg.connect(url(database)) as conn:
            open_tasks, due = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE next_notice_at <= %s OR next_notice_at IS NULL) FROM tasks "
                "WHERE done_at IS NULL", (IDLE_AT,)).fetchone()
            unsent = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        seconds, rss, said = ssj(database, "tick", CODE, now=IDLE_AT, env=SMTP)
        again, rss2, _ = ssj(database, "tick", CODE, now=IDLE_AT + timedelta(minutes=15), env=SMTP)
        proc = subprocess.run([sys.executable, "-m", "bench.province_tick", "--board",
                               url(database, "postgresql+psycopg")], cwd=ROOT, check=True, stdout=subprocess.PIPE)
        words = proc.stdout.decode().split()
        board_seconds, board_rss = float(words[-2]), float(words[-1])
        profile = _profiled(database)
        bare = _bare_process(database)
    finally:
        drop(database)
    print(f"  {open_tasks:,} open tasks, {due:,} due, {unsent:,} unsent messages at {IDLE_AT.isoformat()}: {said}")
    print(line("ssj tick, idle", seconds, rss=rss))
    print(line("ssj tick, idle, a quarter of an hour later", again, rss=rss2))
    print(line("the Prefect tick's dashboard (workflow.services.dashboard)", board_seconds, rss=board_rss))
    print(line("for context: a bare process importing SQLAlchemy and psycopg, one SELECT (best of 3)", bare))
    print(f"  target: under 1 s (issue 19, point 5), the process's start-up included; the idle tick is "
          f"{seconds / bare:.1f}x / {again / bare:.1f}x the bare process")
    print("  where ssj tick spends its time (cProfile, cumulative):")
    print("\n".join(profile))


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--board":
        board(sys.argv[2], *(datetime.fromisoformat(a) for a in sys.argv[3:]))
    else:
        run()
