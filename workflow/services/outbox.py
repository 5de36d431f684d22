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
from datetime import timedelta

from workflow.files.email import build_message, render


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


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def send_outbox(uow, smtp: SmtpConfig, *, worker: str, limit: int = 100, most: int = 20_000,
                after_send: Callable[[object], None] | None = None) -> SendReport:
    """Send what is due now (every campaign's), ``limit`` rows per claim, until nothing is left (or ``most`` were
    tried). Each claim and each mark is its own transaction.

    ``after_send`` runs between acceptance and the mark (tests crash there). When the
    server cannot be reached the run stops: the claimed rows back off, the rest wait.
    """
    report = SendReport()
    senders: dict[str, str] = {}
    while report.sent + report.failed < most:
        with uow:
            rows = uow.outbox.claim(now=uow.now, worker=worker, limit=limit)
        if not rows or not _send_batch(uow, smtp, rows, senders, report, after_send):
            break
    return report


def _send_batch(uow, smtp: SmtpConfig, rows, senders: dict[str, str], report: SendReport,
                after_send: Callable[[object], None] | None) -> bool:
    """One SMTP session over the claimed rows; False when the server could not be reached."""
    try:
        server = smtp.connect()
    except (OSError, smtplib.SMTPException) as exc:
        _failed(uow, rows, f"无法连接邮件服务器 {smtp.host}:{smtp.port}：{type(exc).__name__}", report)
        return False
    try:
        for row in rows:
            if row.campaign_code not in senders:
                with uow:
                    senders[row.campaign_code] = uow.campaigns.plan(row.campaign_code).email_sender
            context = json.loads(row.context)
            subject, body = render(row.template, context)
            message = build_message(sender=senders[row.campaign_code], recipient=row.recipient, subject=subject,
                                    body=body, message_id=row.message_id, date=uow.now,
                                    attachments=context.get("attachments", []))
            try:
                server.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                _failed(uow, [row], f"{type(exc).__name__}: {getattr(exc, 'smtp_error', exc)!s}"[:500], report)
                continue
            if after_send:
                after_send(row)
            with uow:
                uow.outbox.mark_sent(row, uow.now)
            report.sent += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return True


def _failed(uow, rows, error: str, report: SendReport) -> None:
    with uow:
        uow.outbox.back_off(rows, uow.now, error, backoff)
    report.failed += len(rows)
    report.errors.append(error)
