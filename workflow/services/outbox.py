"""Sending the outbox over real SMTP: claim, render, send, mark — and never lose or duplicate a message.

A sender claims unsent rows (a lease: a crashed sender's rows come back after it),
renders each from its queued context, sends it, then marks it sent in its own
small transaction. A crash between the server's acceptance and the mark re-sends
the same message later, under the same Message-ID; no other re-send happens.
While the server is down, rows wait with a growing backoff (1, 2, 4 … 60 minutes).
The password is never logged or stored.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, or_, select, update

from workflow.audit import canonical_json
from workflow.campaign_file import CampaignPlan
from workflow.files.email import build_message, message_id, render
from workflow.persistence import orm
from workflow.persistence.bulk import Bulk
from workflow.services.campaigns import plan_of

_o = orm.OutboxMessage.__table__
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "SmtpConfig":
        """FORMATS.md: SSJ_SMTP_HOST, SSJ_SMTP_PORT, SSJ_SMTP_SECURITY, SSJ_SMTP_USER, SSJ_SMTP_PASSWORD."""
        security = environ.get("SSJ_SMTP_SECURITY", "none")
        default_port = {"ssl": 465, "starttls": 587}.get(security, 25)
        return cls(environ.get("SSJ_SMTP_HOST", "127.0.0.1"), int(environ.get("SSJ_SMTP_PORT", default_port)), security,
                   environ.get("SSJ_SMTP_USER", ""), environ.get("SSJ_SMTP_PASSWORD", ""))

    def connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                   context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if self.user:
            server.login(self.user, self.password)
        return server


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def queue(conn: Connection, plan: CampaignPlan, *, key: str, recipients: list[str], kind: str, template: str,
          context: dict, now: datetime) -> int:
    """Queue one message per recipient in the caller's transaction; the same key queues nothing twice."""
    rows = [(f"{key}#{r}", message_id(f"{key}#{r}", plan.email_sender), r, canonical_json(context)) for r in recipients]
    return Bulk(conn, "INSERT INTO outbox (key, message_id, recipient, context, campaign_code, kind, template, "
                      "created_at, not_before, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (key) DO NOTHING", _o,
                ("key", "message_id", "recipient", "context", "campaign_code", "kind", "template", "created_at",
                 "not_before", "attempts"), (plan.code, kind, template, now, now, 0)).run(rows)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim(engine: Engine, *, now: datetime, worker: str, limit: int = 100) -> list:
    """Take up to ``limit`` sendable rows for ``worker`` (expired leases of crashed senders included)."""
    with engine.begin() as conn:
        ready = select(_o.c.id).where(_o.c.sent_at.is_(None), _o.c.not_before <= now,
                                      or_(_o.c.claimed_at.is_(None), _o.c.claimed_at < now - LEASE)) \
            .order_by(_o.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            ready = ready.with_for_update(skip_locked=True)
        ids = list(conn.execute(ready).scalars())
        if not ids:
            return []
        conn.execute(update(_o).where(_o.c.id.in_(ids)).values(claimed_at=now, claimed_by=worker))
        return conn.execute(select(_o).where(_o.c.id.in_(ids)).order_by(_o.c.id)).all()


def send_outbox(engine: Engine, smtp: SmtpConfig, *, now: datetime, worker: str, limit: int = 100,
                most: int = 20_000, after_send: Callable[[object], None] | None = None) -> SendReport:
    """Send what is due now, ``limit`` rows per claim, until nothing is left (or ``most`` were tried).

    ``after_send`` runs between acceptance and the mark (tests crash there). When the
    server cannot be reached the run stops: the claimed rows back off, the rest wait.
    """
    report = SendReport()
    senders: dict[str, str] = {}
    while report.sent + report.failed < most:
        rows = claim(engine, now=now, worker=worker, limit=limit)
        if not rows or not _send_batch(engine, smtp, rows, now, senders, report, after_send):
            break
    return report


def _send_batch(engine: Engine, smtp: SmtpConfig, rows, now: datetime, senders: dict[str, str], report: SendReport,
                after_send: Callable[[object], None] | None) -> bool:
    """One SMTP session over the claimed rows; False when the server could not be reached."""
    try:
        server = smtp.connect()
    except (OSError, smtplib.SMTPException) as exc:
        _failed(engine, rows, now, f"无法连接邮件服务器 {smtp.host}:{smtp.port}：{type(exc).__name__}", report)
        return False
    try:
        for row in rows:
            if row.campaign_code not in senders:
                with engine.connect() as conn:
                    senders[row.campaign_code] = plan_of(conn, row.campaign_code).email_sender
            context = json.loads(row.context)
            subject, body = render(row.template, context)
            message = build_message(sender=senders[row.campaign_code], recipient=row.recipient, subject=subject,
                                    body=body, message_id=row.message_id, date=now,
                                    attachments=context.get("attachments", []))
            try:
                server.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                _failed(engine, [row], now, f"{type(exc).__name__}: {getattr(exc, 'smtp_error', exc)!s}"[:500], report)
                continue
            if after_send:
                after_send(row)
            with engine.begin() as conn:
                conn.execute(update(_o).where(and_(_o.c.id == row.id, _o.c.sent_at.is_(None)))
                             .values(sent_at=now, attempts=row.attempts + 1))
            report.sent += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return True


def _failed(engine: Engine, rows, now: datetime, error: str, report: SendReport) -> None:
    with engine.begin() as conn:
        for row in rows:
            attempts = row.attempts + 1
            conn.execute(update(_o).where(_o.c.id == row.id).values(
                attempts=attempts, last_error=error, claimed_at=None, claimed_by=None,
                not_before=now + backoff(attempts)))
    report.failed += len(rows)
    report.errors.append(error)
