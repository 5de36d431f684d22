"""Province section ``send``: a wave of queued notices sent by the product's sender to a local SMTP sink, vs its
floor.

Setup (not timed), from the seed campaign drawn at 10 % (its outbox holds the draw's dispatch mail): ``ssj tick
--no-mail`` at the first overdue instant (the sweep holds each confirmation's notice and digests them, one
message per administrator), then one notice per held task queued with the product's ``OutboxRepository.queue``
(the digest's own context for that one task) — a wave of as many messages as tasks, as a province with a
person per task would have. Product, in its own process: ``send_outbox`` (what ``ssj tick`` sends with) until
nothing is left, counting its passes. Sink: aiosmtpd on 127.0.0.1 in a separate process, accepting everything
and keeping each message's envelope and bytes. Floor, in the same run: the very messages the sink received,
sent again over one ``smtplib`` connection to the same sink, plus one UPDATE marking the rows of a fresh copy.
"""

from __future__ import annotations

import json
import os
import pickle
import smtplib
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg

from bench.bench_import import OUT
from bench.province_common import CODE, PREFIX, PeakWatch, drawn, drop, fresh, line, ssj, template, url
from calendars import BEIJING

SWEEP_AT = datetime(2019, 12, 2, 9, 30, tzinfo=BEIJING)  # Monday: the confirmations due 2019-11-29 are overdue
SEND_AT = datetime(2019, 12, 2, 9, 31, tzinfo=BEIJING)
ROOT = Path(__file__).resolve().parents[1]

SINK = r"""
import pickle, sys
from aiosmtpd.controller import Controller

class Keep:
    def __init__(self, out):
        self.out = out
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # offers PIPELINING, as Postfix and the mail providers do
        return [*responses[:-1], "250-PIPELINING", responses[-1]]
    async def handle_DATA(self, server, session, envelope):
        pickle.dump((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content),
                    self.out)
        return "250 OK"

with open(sys.argv[1], "wb") as out:
    controller = Controller(Keep(out), hostname="127.0.0.1", port=int(sys.argv[2]))
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
"""


def _queue_wave(database_url: str) -> None:
    """One notice per held task, through the product's outbox (run as a child: it is setup, not timed)."""
    from sqlalchemy import text

    from workflow.identity import SYSTEM
    from workflow.mail import Mail
    from workflow.persistence.database import make_engine
    from workflow.services.digests import digest_context
    from workflow.services.uow import UnitOfWork

    engine = make_engine(database_url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT id, task_id, level, stage, step, recipient, cc, item FROM pending_notices "
                                 "WHERE campaign_code = :c ORDER BY id"), {"c": CODE}).all()
    uow = UnitOfWork(engine, now=SEND_AT, actor=SYSTEM, campaign=CODE)
    for i in range(0, len(held), 5000):
        with uow:
            plan, secret = uow.plan, uow.settings.reply_secret()
            mails = []
            for r in held[i:i + 5000]:
                row = {**r._mapping, "item": json.loads(r.item), "cc": tuple(r.cc.split("; ")) if r.cc else ()}
                mails.append(Mail(f"bench-wave|{r.id}", r.recipient, r.stage, "notice_digest",
                                  digest_context(plan, r.stage, [row]), r.task_id, row["cc"]))
            uow.outbox.queue(plan.code, plan.email_sender, mails, SEND_AT, not_before=SEND_AT, secret=secret)
    engine.dispose()


def _send_child(database_url: str, port: int) -> None:
    """The product's sender until nothing is left: prints seconds, messages sent, passes (send_outbox calls)."""
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.outbox import SmtpConfig, send_outbox
    from workflow.services.uow import UnitOfWork

    engine = make_engine(database_url)
    smtp = SmtpConfig("127.0.0.1", port)
    sent, passes, errors = 0, 0, []
    start = time.perf_counter()
    while True:
        report = send_outbox(UnitOfWork(engine, now=SEND_AT, actor=SYSTEM), smtp, worker="bench")
        if not report.tried:
            break
        passes += 1
        sent += report.sent
        errors += report.errors[:3]
    print(json.dumps({"seconds": time.perf_counter() - start, "sent": sent, "passes": passes, "errors": errors}))
    engine.dispose()


def _wave() -> str:
    """The drawn campaign swept at the first overdue instant, and the wave queued."""
    base = drawn("10%")

    def build(database: str) -> None:
        fresh(database, base)
        ssj(database, "tick", CODE, "--no-mail", now=SWEEP_AT)
        subprocess.run([sys.executable, "-c", f"from bench.province_send import _queue_wave; "
                                              f"_queue_wave({url(database, 'postgresql+psycopg')!r})"],
                       cwd=ROOT, check=True)
    return template("send wave", build)


def _sink(path: Path) -> tuple[subprocess.Popen, int]:
    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SINK, str(path), str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=60)


def _received(path: Path) -> list:
    kept = []
    with open(path, "rb") as f:
        while True:
            try:
                kept.append(pickle.load(f))
            except EOFError:
                return kept


def _product(database: str, port: int) -> tuple[dict, float]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", f"from bench.province_send import _send_child; "
                                                   f"_send_child({url(database, 'postgresql+psycopg')!r}, {port})"],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE)
    watch = PeakWatch(proc.pid)
    out = proc.stdout.read().decode()
    peak = watch.stop()
    if proc.wait() != 0:
        raise SystemExit(f"the sender failed: {out}")
    return json.loads(out.strip().splitlines()[-1]), peak


def _floor(messages: list, port: int, database_url: str) -> float:
    start = time.perf_counter()
    server = smtplib.SMTP("127.0.0.1", port)
    for sender, recipients, data in messages:
        server.sendmail(sender, recipients, data)
    server.quit()
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE outbox SET sent_at = %s, state = '已发', attempts = attempts + 1 "
                     "WHERE sent_at IS NULL AND state = '待发'", (SEND_AT,))
    return time.perf_counter() - start


def run() -> None:
    print("send: the first overdue wave of notices to a local SMTP sink (send_outbox vs one smtplib connection)")
    wave = _wave()
    database, floor_db = f"{PREFIX}_send", f"{PREFIX}_send_floor"
    received, again = OUT / "province-send-received.pickle", OUT / "province-send-floor.pickle"
    try:
        fresh(database, wave)
        floor_url = fresh(floor_db, wave)
        with psycopg.connect(url(database)) as conn:
            queued = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND state = '待发'").fetchone()[0]
            tasks = conn.execute("SELECT count(*) FROM pending_notices").fetchone()[0]
            digests = conn.execute("SELECT count(*) FROM outbox WHERE template = 'notice_digest' "
                                   "AND key NOT LIKE 'bench-wave|%'").fetchone()[0]
        sink, port = _sink(received)
        try:
            product, rss = _product(database, port)
        finally:
            _stop(sink)
        messages = _received(received)
        sink, port = _sink(again)
        try:
            floor = _floor(messages, port, floor_url)
        finally:
            _stop(sink)
    finally:
        drop(database)
        drop(floor_db)
    sent = product["sent"]
    print(f"  {tasks:,} overdue notices held; the product's digests: {digests:,} messages; the wave: {queued:,} "
          f"queued messages (one per task, plus the draw's dispatch mail and the digests)")
    print(f"  product sent {sent:,} in {product['passes']} pass(es) of send_outbox; the sink received "
          f"{len(messages):,}" + (f"; errors: {product['errors'][:3]}" if product["errors"] else ""))
    print(line(f"floor: {len(messages):,} messages over one smtplib connection + one UPDATE", floor))
    print(line(f"send_outbox: {sent:,} messages", product["seconds"], floor, rss=rss))
    print(f"  messages/s: product {sent / product['seconds']:,.0f}, floor {len(messages) / floor:,.0f}")
    print(f"  ratio: {product['seconds'] / floor:.2f}x (target ≤ 2x)")
