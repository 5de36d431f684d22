"""Sending the outbox over real SMTP: claim, make, send, mark — one message at a time, and never lose or
duplicate one.

A sender claims 待发 rows, 1,000 at a time (a lease: a crashed sender's rows come back after it; a share per
campaign; each claim reads on from where the last one stopped), makes each once as the bytes that go on the
wire, sends it over the run's one SMTP session, then marks it in its own small transaction — sent without
waiting, and settled before the next message's final dot (``SentMarks``). A run sends until nothing is due or its
time budget (``BUDGET``, inside the tick's 15 minutes) is spent; rows it claimed and could not try by then are
handed back at once. Every message is handled on its own: one that cannot be made or
is refused never stops the others, in its campaign or any other.

- Cannot be made (a template error, a missing file …): 无法生成, with the reason and a
  fingerprint of its inputs; tried again only when they change (``revive_fixed``).
- 4xx or a connection error: tried again later with a growing backoff (1, 2, 4 … 60 minutes).
- 5xx: tried ``REFUSALS_BEFORE_BOUNCE`` times in all, then 退信 with the server's reply.
- The connection lost after the data went out: re-sent once, later, under the same Message-ID;
  lost again, 投递不明 — never a copy per tick.
- A crash between the server's acceptance and the mark re-sends the same message later, under
  the same Message-ID; no other re-send happens.

退信, 无法生成 and 投递不明 are the office's to look at (``mail_problems``); the password is never
logged or stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from calendars import BEIJING
from workflow.deadline_words import instant_words
from workflow.files.email import Unbuildable, inputs_digest, message_bytes, read_attachment, render
from workflow.mail import BOUNCED, UNBUILDABLE, UNCLEAR
from workflow.persistence.outbox import LEASE
from workflow.persistence.outbox_marks import SentMarks
from workflow.services.calendar_files import campaign_calendar
from workflow.services.smtp import Refused, SmtpConfig, SmtpSession, Temporary, Unclear, Unreachable

__all__ = ["SmtpConfig", "send_outbox", "mail_problems", "problem_summary", "SendReport", "CampaignSend", "KINDS"]

REFUSALS_BEFORE_BOUNCE = 3
RESENDS_WHEN_UNCLEAR = 1
BUDGET = timedelta(minutes=10)  # a run's sending time: a tick every 15 minutes never overlaps the next one's
LEASE_USED = LEASE / 2  # claimed rows not sent by then are handed back: no other sender ever takes them as expired
PROBLEMS = (BOUNCED, UNBUILDABLE, UNCLEAR)
KINDS = {"remind": "提醒", "overdue": "逾期通知", "escalate": "督办", "dispatch": "派发名单", "forms": "一企一表",
          "report": "逾期部门报告", "deadline_moved": "期限调整", "match_commitments": "执法人员抽取承诺征集",
          "match_committed": "执法人员抽取承诺"}


@dataclass
class Tally:
    """What a sender's run did with messages: sent, to be tried again, set aside (and the first reasons)."""

    sent: int = 0
    failed: int = 0  # to be tried again later
    bounced: int = 0  # 退信 in this run
    unbuildable: int = 0  # 无法生成 in this run
    unclear: int = 0  # 投递不明 in this run
    errors: list[str] = field(default_factory=list)  # the first few reasons, in order


@dataclass
class CampaignSend(Tally):
    """One campaign's share of a sender's run: what went, what did not, and why."""

    delivered: list[tuple[str, int | None, str]] = field(default_factory=list)  # (kind, task id, recipient) sent

    @property
    def problems(self) -> int:
        """Messages this run set aside for the office (退信, 无法生成, 投递不明)."""
        return self.bounced + self.unbuildable + self.unclear


@dataclass
class SendReport(Tally):
    revived: int = 0  # 无法生成 messages whose inputs changed, back in the queue
    campaigns: dict[str, CampaignSend] = field(default_factory=dict)  # the same, per campaign (a run sends them all)

    @property
    def tried(self) -> int:
        return self.sent + self.failed + self.bounced + self.unbuildable + self.unclear

    def of(self, code: str) -> CampaignSend:
        """The campaign's share of this run (empty when none of its mail was due)."""
        return self.campaigns.get(code) or CampaignSend()

    def count(self, row, what: str, error: str | None = None) -> None:
        """One message ended ``what`` (sent, failed, bounced, unbuildable, unclear) in this run."""
        setattr(self, what, getattr(self, what) + 1)
        mine = self.campaigns.setdefault(row.campaign_code, CampaignSend())
        setattr(mine, what, getattr(mine, what) + 1)
        if what == "sent":
            mine.delivered.append((row.kind, row.task_id, row.recipient))
        if error and len(mine.errors) < 20 and error not in mine.errors:
            mine.errors.append(error)

    def not_sent(self) -> str:
        """What did not go in this run, in the office's words ("稍后重试 2 封，退信 1 封"), or ""."""
        ended = {"稍后重试": self.failed, "退信": self.bounced, "无法生成": self.unbuildable, "投递不明": self.unclear}
        return "，".join(f"{what} {n} 封" for what, n in ended.items() if n)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def about(row) -> str:
    """Which message, in the office's words: the campaign, what it is about, its recipient."""
    task = f"（任务 #{row.task_id}）" if row.task_id else ""
    return f"抽查任务 {row.campaign_code}，{KINDS.get(row.kind, row.kind)}{task}，收件人 {row.recipient}"


def send_outbox(uow, smtp: SmtpConfig, *, worker: str, limit: int = 1000, budget: timedelta = BUDGET,
                after_send: Callable[[object], None] | None = None,
                clock: Callable[[], float] = time.monotonic) -> SendReport:
    """Send what is due now (every campaign's), ``limit`` rows per claim, until nothing is left or ``budget`` (of
    ``clock``'s seconds) is spent: a wave goes in one run, and a run ends well inside the tick's period (what
    is left goes in the next). Each claim is its own transaction; so is each mark (see ``SentMarks``).

    ``after_send`` runs between acceptance and the mark (tests crash there). When the
    server cannot be reached the run stops: the claimed rows back off, the rest wait.
    """
    report = SendReport()
    senders: dict[str, tuple[str, str]] = {}
    revive_fixed(uow, senders, report)
    places: dict[str, int | None] = {}  # per campaign, the last id claimed in this run (None: nothing more due)
    openings: dict[str, object] = {}
    ends = clock() + budget.total_seconds()
    session, marks = SmtpSession(smtp), uow.sent_marks()
    try:
        while clock() < ends:
            with uow:
                claimed = uow.outbox.claim(now=uow.now, worker=worker, limit=limit, after=places)
            if not claimed:
                break
            rows = _still_needed(uow, _in_office_hours(uow, claimed, openings))
            if rows and not _send_batch(uow, session, marks, rows, senders, report, after_send,
                                        min(ends, clock() + LEASE_USED.total_seconds()), clock):
                break
    finally:
        marks.close()
        session.close()
    return report


def _still_needed(uow, rows) -> list:
    """The claimed rows still worth sending: a digest of notices whose every task was done while it waited for
    office hours (an answer on Saturday, the office acting at Monday's opening) is set aside as 无需发送."""
    finished = set()
    digests = [r.key for r in rows if r.template == "notice_digest"]
    if digests:
        with uow:
            finished = uow.outbox.finished_digests(digests)
            for row in rows:
                if row.key in finished:
                    uow.outbox.not_needed(row, f"所列事项在{instant_words(uow.now, BEIJING)}发送前均已办结，未发送")
    return [r for r in rows if r.key not in finished]


def _in_office_hours(uow, rows, openings: dict[str, object]) -> list:
    """The claimed rows whose campaign's office is open now; the others wait for its next opening (a retry's
    backoff may end at night: the message still goes out in office hours, and no attempt is counted).
    ``openings``: per campaign, its office's next opening, looked up once a run."""
    ready, later = [], []
    for row in rows:
        if row.campaign_code not in openings:
            with uow:
                plan = uow.campaigns.plan(row.campaign_code)
                openings[row.campaign_code] = plan.office_hours.opening(uow.now, campaign_calendar(plan), plan.tz)
        (ready if openings[row.campaign_code] <= uow.now else later).append(row)
    if later:
        with uow:
            for row in later:
                uow.outbox.defer(row, openings[row.campaign_code])
    return ready


def _sender(uow, row, senders: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The campaign's sender address and its office's mailbox (replies go there), looked up once per campaign (a database failure here is the database's, not
    this message's: it is raised, never recorded as the message's reason)."""
    if row.campaign_code not in senders:
        with uow:
            plan = uow.campaigns.plan(row.campaign_code)
            senders[row.campaign_code] = (plan.email_sender, plan.email_office)
    return senders[row.campaign_code]


def _parts(row, stored: dict) -> tuple[dict, list[tuple[str, bytes | None]]]:
    """What the message is made of: its context and files (``stored``: per key)."""
    context = json.loads(row.context)
    legacy = context.pop("attachments", [])  # queued before files were stored: local paths
    return context, stored.get(row.key, []) + [read_attachment(path) for path in legacy]


def _inputs(row, sender: str, stored: dict) -> tuple[dict, list[tuple[str, bytes | None]], str]:
    """The message's context and files, and their fingerprint."""
    context, files = _parts(row, stored)
    return context, files, inputs_digest(row.template, row.context, row.recipient, sender, files)


def revive_fixed(uow, senders: dict[str, tuple[str, str]], report: SendReport, *, page: int = 1000) -> None:
    """无法生成 messages whose inputs are no longer what they failed on go back to 待发 (all of them, a page at a time)."""
    last = 0
    while True:
        with uow:
            stuck = uow.outbox.in_state(UNBUILDABLE, after_id=last, limit=page)
            stored = uow.outbox.attachments([r.key for r in stuck])
        if not stuck:
            return
        last = stuck[-1].id
        for row in stuck:
            sender = _sender(uow, row, senders)[0]
            try:
                digest = _inputs(row, sender, stored)[2]
            except Exception:  # noqa: BLE001 - still cannot be read: it stays as it is
                continue
            if digest != row.inputs_sha256:
                with uow:
                    uow.outbox.revive(row, uow.now)
                report.revived += 1


def _send_batch(uow, session: SmtpSession, marks: SentMarks, rows, senders: dict[str, tuple[str, str]],
                report: SendReport, after_send: Callable[[object], None] | None, ends: float,
                clock: Callable[[], float]) -> bool:
    """The claimed rows over the run's SMTP session (re-opened after a disconnect), each message made once, as the
    bytes that go on the wire; False when the server could not be reached or the run's time is up (the rows not
    tried by then are handed back for the next run, long before their lease would run out)."""
    with uow:
        stored = uow.outbox.attachments([r.key for r in rows])
    for i, row in enumerate(rows):
        if clock() >= ends:
            with uow:
                uow.outbox.release(rows[i:])
            return False
        files, (sender, reply_to) = None, _sender(uow, row, senders)
        copies = row.cc.split("; ") if row.cc else ()
        try:
            context, files = _parts(row, stored)
            subject, body = render(row.template, context)
            message = message_bytes(sender=sender, recipient=row.recipient, subject=subject, body=body,
                                    message_id=row.message_id, date=uow.now, attachments=files, reply_to=reply_to,
                                    cc=copies, in_reply_to=context.get("in_reply_to", ""))
        except Exception as exc:  # noqa: BLE001 - whatever this message's data does, it stops this message only
            reason = str(exc) if isinstance(exc, Unbuildable) else f"{type(exc).__name__}: {exc}"
            digest = None if files is None else inputs_digest(row.template, row.context, row.recipient, sender, files)
            _settle(uow, row, UNBUILDABLE, f"无法生成邮件（{about(row)}）：{reason}", report, inputs_sha256=digest)
            continue
        try:
            session.deliver(message, sender, row.recipient, copies=copies, before_accept=marks.settle)
        except Unreachable as exc:
            _failed(uow, rows[i:], str(exc), report)
            return False
        except Temporary as exc:
            _failed(uow, [row], f"暂时无法发送（{about(row)}）：{exc}"[:1000], report)
            continue
        except Refused as exc:
            _refused(uow, row, str(exc), report)
            continue
        except Unclear as exc:
            _unclear(uow, row, str(exc), report)
            continue
        if after_send:
            after_send(row)
        marks.sent(row)
        report.count(row, "sent")
    return True


def _refused(uow, row, reply: str, report: SendReport) -> None:
    rejections = row.rejections + 1
    if rejections < REFUSALS_BEFORE_BOUNCE:
        _failed(uow, [row], f"邮件服务器拒收（第 {rejections} 次，{about(row)}）：{reply}"[:1000], report,
                rejections=rejections)
        return
    _settle(uow, row, BOUNCED, f"退信（{about(row)}）：邮件服务器 {rejections} 次拒收，答复：{reply}"[:1000], report,
            rejections=rejections)


def _unclear(uow, row, what: str, report: SendReport) -> None:
    unclear = row.unclear + 1
    if unclear <= RESENDS_WHEN_UNCLEAR:
        _failed(uow, [row], f"{what}（{about(row)}）；稍后以同一 Message-ID 重发一次", report, unclear=unclear)
        return
    _settle(uow, row, UNCLEAR, f"投递不明（{about(row)}）：{what}，已重发 {RESENDS_WHEN_UNCLEAR} 次，"
                               f"请向收件人核实（Message-ID {row.message_id}）", report, unclear=unclear)


_ENDED = {BOUNCED: "bounced", UNBUILDABLE: "unbuildable", UNCLEAR: "unclear"}


def _settle(uow, row, state: str, error: str, report: SendReport, **values) -> None:
    with uow:
        uow.outbox.settle(row, state, error, **values)
    report.count(row, _ENDED[state], error)
    report.errors.append(error)


def _failed(uow, rows, error: str, report: SendReport, **counted: int) -> None:
    with uow:
        uow.outbox.back_off(rows, uow.now, error, backoff, **counted)
    for row in rows:
        report.count(row, "failed", error)
    report.errors.append(error)


def mail_problems(uow) -> dict:
    """The campaign's messages the office must look at (退信, 无法生成, 投递不明): counts and each one's reason."""
    with uow:
        code = uow.plan.code
        counts = uow.outbox.state_counts(code, PROBLEMS)
        rows = [r for state in PROBLEMS for r in uow.outbox.in_state(state, campaign_code=code, limit=200)]
    return {"counts": {s: counts.get(s, 0) for s in PROBLEMS},
            "messages": [{"state": r.state, "recipient": r.recipient, "kind": r.kind, "task_id": r.task_id,
                          "message_id": r.message_id, "reason": r.last_error} for r in rows]}


def problem_summary(problems: dict) -> str:
    """One line for the office, or "" when every message went or is still on its way."""
    counts = {s: n for s, n in problems["counts"].items() if n}
    if not counts:
        return ""
    return (f"有 {sum(counts.values())} 封邮件需要办公室处理（" + "，".join(f"{s} {n} 封" for s, n in counts.items())
            + "）：系统不会自动重发；请按各封的原因核实收件人，必要时另行通知对方")
