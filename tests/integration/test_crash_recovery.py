"""A tick killed (SIGKILL) at seeded random points, then restarted: nothing lost, nothing doubled, chains valid.

The tick runs as its own process (``ssj tick``, no Prefect server) over a campaign
with thousands of due notices, sending to a real SMTP server on loopback. After
each kill: every audit chain verifies, every task's escalation level is the one
its audited notices reached, and every queued message belongs to an audited
notice. At the end every queued message has been delivered, under its one
Message-ID, and nothing else was. What the design allows beyond that: a kill
that falls between the server's acceptance of a message and its mark leaves
that one message to be sent again after the lease, under the same Message-ID —
so at most one extra delivery per kill. Two kills may land on the same message
(it is the first one the next tick sends), which then arrives three times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.integration.conftest import CODE
from tests.conftest import rows
from tests.integration.test_concurrent_ticks import SSJ, wide_campaign
from workflow.persistence import orm
from workflow.persistence.pending_notices import DROPPED

KILLS = 5
SEED = 20191202

pytestmark = [pytest.mark.slow, pytest.mark.stress]  # processes racing and killed: make stress, .ci/run (three rounds)


def tick_process(db_url, files, when: datetime) -> subprocess.Popen:
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_FILES_DIR": str(files), "SSJ_NOW": when.isoformat()}
    return subprocess.Popen([SSJ, "tick", CODE, "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def consistent(ssj, db_url) -> None:
    verified = ssj("audit", "verify", "--json")  # in this process: a new ``ssj`` process costs a second each time
    assert verified.code == 0 and json.loads(verified.out)["ok"] is True, verified.out
    reached: dict[str, int] = {}
    a = orm.AuditEvent  # in the order written (a table's rows come back in no promised order)
    for (payload,) in rows(db_url, select(a.payload).where(a.action == "notices").order_by(a.chain, a.seq)):
        for key, _, _, _, level, _ in json.loads(payload)["notices"]:
            assert key not in reached or reached[key] < level, f"{key}: the same notice audited twice"
            reached[key] = level
    t = orm.TaskRow
    for key, level in rows(db_url, select(t.key, t.escalation_level)):
        assert reached.get(key, 0) == level, f"{key}: level {level}, audited {reached.get(key, 0)}"
    p, o = orm.PendingNotice, orm.OutboxMessage
    for key, level in rows(db_url, select(t.key, p.level).join(t, t.id == p.task_id)):
        assert reached.get(key, 0) >= level, f"{key}: a notice held without its audited level"
    digests = {k for (k,) in rows(db_url, select(o.key).where(o.template == "notice_digest"))}
    listed = {k for (k,) in rows(db_url, select(p.digest_key).where(p.digest_key.is_not(None)))} - {DROPPED}
    assert digests == listed, "every digest lists its held notices, and every digested notice is in a queued digest"


def test_killed_ticks_lose_and_double_nothing(loaded, db_url, smtp_server, tmp_path):
    inbox, _ = smtp_server
    wide_campaign(loaded, tmp_path)
    rng = random.Random(SEED)
    # A working day apart, each tick has thousands of notices to decide, hold, digest (with the departments'
    # lists) and send: reminders, overdue notices, then each step of the ladder. Ticks are killed at random
    # points until KILLS of them died mid-run (a tick that finished first is one more tick to be consistent).
    days = iter(["2019-11-28", "2019-11-29", "2019-12-02", "2019-12-03", "2019-12-04", "2019-12-05", "2019-12-06",
                 "2019-12-09", "2019-12-10", "2019-12-11", "2019-12-12", "2019-12-13", "2019-12-16", "2019-12-17",
                 "2019-12-18", "2019-12-19", "2019-12-20", "2019-12-23", "2019-12-24", "2019-12-25"])
    killed = 0
    for day in days:
        when = datetime.fromisoformat(f"{day}T09:30+08:00")
        proc = tick_process(db_url, tmp_path / "files", when)
        time.sleep(rng.uniform(0.3, 1.6))  # the process imports for ~0.3 s, then sweeps, digests and sends
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
        consistent(loaded, db_url)
        if killed == KILLS:
            break
    assert killed == KILLS, "the seeded points fell inside the runs"
    when += timedelta(minutes=15)  # the next scheduled tick; a killed sender's lease (10 min) has run out
    for _ in range(3):  # run to the end: whatever the killed ticks left is done now
        proc = tick_process(db_url, tmp_path / "files", when)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        when += timedelta(minutes=15)
    consistent(loaded, db_url)

    o = orm.OutboxMessage
    queued = rows(db_url, select(o.message_id, o.sent_at))
    assert queued and all(sent for _, sent in queued), "every queued message was sent in the end"
    assert len({m for m, _ in queued}) == len(queued), "one Message-ID per queued message"
    delivered = Counter(inbox.ids())
    assert set(delivered) == {m for m, _ in queued}, "nothing lost, nothing invented: every delivery is a queued message"
    resent = {m: n for m, n in delivered.items() if n > 1}
    assert sum(delivered.values()) - len(delivered) <= killed, (
        "at most one re-send per kill (a kill between the server's acceptance and the mark)", killed, resent)
    copies: dict[str, set] = {}
    for rcpt, message in inbox.messages:
        if message["Message-ID"] in resent:
            copies.setdefault(message["Message-ID"], set()).add(
                (tuple(rcpt), str(message["To"]), str(message["Subject"]), message.get_body().get_content()))
    assert all(len(c) == 1 for c in copies.values()), ("a re-send is the same message", copies)
