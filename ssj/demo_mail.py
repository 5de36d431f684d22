"""The demo's mail: a local SMTP server keeping what the flows send as ``邮件/*.eml``, the office mailbox (a
Maildir the ticks read) the people's replies go into, and what both hold, in the account's words."""

from __future__ import annotations

import json
import mailbox
import os
import re
import shutil
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from workflow.files.atomic import write_atomically
from workflow.identity import SYSTEM
from workflow.services.mail_health import mail_health
from workflow.services.uow import UnitOfWork

EVERY = timedelta(minutes=15)  # ``ssj serve``'s tick schedule: waiting mail goes at the first tick the office is open


@contextmanager
def environment(values: dict[str, str], *, removed: tuple[str, ...] = ()) -> Iterator[None]:
    """The process's environment with ``values`` set and ``removed`` unset for the block, as it was afterwards."""
    saved = {k: os.environ.get(k) for k in (*values, *removed)}
    for key in removed:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class MailDrop:
    """The demo's local SMTP server (aiosmtpd): each message it accepts is kept as ``邮件/NNNN-主题.eml``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.subjects: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.eml"):
            old.unlink()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        subject = str(message["Subject"])
        self.subjects.append(subject)
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", subject)[:60]
        write_atomically(self.folder / f"{len(self.subjects):04d}-{safe}.eml",
                         lambda handle: handle.write(envelope.original_content))
        return "250 OK"


@contextmanager
def local_mail_server(folder: Path):
    """Start the SMTP server on a free loopback port and point the outbox's sender at it (FORMATS.md variables)."""
    from aiosmtpd.controller import Controller

    drop = MailDrop(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(drop, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with environment({"SSJ_SMTP_HOST": "127.0.0.1", "SSJ_SMTP_PORT": str(port), "SSJ_SMTP_SECURITY": "none"}):
            yield drop
    finally:
        controller.stop()


@contextmanager
def office_mailbox(folder: Path):
    """The ticks read the demo's office mailbox (``SSJ_MAILDIR``: a local Maildir the people's replies go into),
    emptied first as the database is (a replay tells the same story); the environment as it was afterwards."""
    shutil.rmtree(folder, ignore_errors=True)
    mailbox.Maildir(str(folder), create=True)
    with environment({"SSJ_MAILDIR": str(folder)}, removed=("SSJ_IMAP_HOST",)):  # never the office's real mailbox
        yield folder


def next_quarter(t: datetime) -> datetime:
    """The first of ``ssj serve``'s 15-minute ticks after ``t``: when a reply that arrived at ``t`` is read."""
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0) + EVERY


def prefix(subject: str) -> str:
    """A subject's 【…】 (what kind of message it is), or 其他."""
    return subject[:subject.index("】") + 1] if subject.startswith("【") and "】" in subject else "其他"


def mail_words(subjects: list[str]) -> str:
    """``发出邮件 9 封（【逾期】 3，【督办】 6）``."""
    kinds = Counter(prefix(s) for s in subjects)
    return f"发出邮件 {len(subjects)} 封（" + "，".join(f"{k} {v}" for k, v in kinds.most_common()) + "）"


def mail_waiting(engine, code: str, t: datetime) -> int:
    """The campaign's 待发 messages (queued outside office hours, they wait for the next opening)."""
    return mail_health(UnitOfWork(engine, now=t, actor=SYSTEM, campaign=code, changes=False)).waiting


def by_mail(engine, code: str, t: datetime, folder: Path) -> dict:
    """What the office mailbox brought: per kind, the replies recorded (an officer's forms counted by file), the
    other outcomes, and how many messages each folder of the mailbox holds."""
    from workflow.replies import FORMS, KIND_LABELS
    from workflow.services.mailbox import RECORDED

    with UnitOfWork(engine, now=t, actor=SYSTEM, campaign=code, changes=False) as uow:
        rows = uow.mailbox.messages(code)
    counted: Counter = Counter()
    for row in rows:
        if row.outcome == RECORDED:
            counted[row.kind] += len(json.loads(row.files)) if row.kind == FORMS else 1
    units = {"acknowledge": "人", FORMS: "份"}
    recorded = [(KIND_LABELS[kind], counted[kind], units.get(kind, "份")) for kind in KIND_LABELS if counted[kind]]
    other = Counter(row.outcome for row in rows if row.outcome != RECORDED)
    box = mailbox.Maildir(str(folder), create=False)
    folders = {name: len(box.get_folder(name)) for name in box.list_folders()}
    return {"recorded": recorded, "other": dict(other), "folders": {"收件箱": len(box), **folders}}
