"""The outbox tables: each email to send, its delivery state, and the files it carries (import them from ``orm``).

Attachments are kept in the database with their message, so a sender on any machine
can send it, whatever became of the folder the file was first written to.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text

from workflow.mail import WAITING
from workflow.persistence.declared import DIGEST, INSTANT, Base


class OutboxMessage(Base):
    """An email to send, written in the transaction that caused it; rendered at send time.

    ``key`` (task, stage, recipient) makes queuing idempotent and fixes the Message-ID, so a
    re-send after a crash between the server's acceptance and the mark is recognisably the same.
    Only 待发 rows are ever claimed; 退信, 无法生成 and 投递不明 wait for the office (or, for
    无法生成, for its inputs to change: ``inputs_sha256`` is what it failed on).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "not_before", sqlite_where=text("sent_at IS NULL"),
                            postgresql_where=text("sent_at IS NULL")),
                      Index("ix_outbox_state_campaign", "state", "campaign_code"),  # what waits for the office
                      # The sender's claim: a campaign's unsent rows in id order, without sorting them.
                      Index("ix_outbox_campaign_unsent", "campaign_code", "id", sqlite_where=text("sent_at IS NULL"),
                            postgresql_where=text("sent_at IS NULL")),
                      # The board's 今日已发: a campaign's messages sent since an instant, not every one it ever sent.
                      Index("ix_outbox_campaign_sent", "campaign_code", "sent_at",
                            sqlite_where=text("sent_at IS NOT NULL"), postgresql_where=text("sent_at IS NOT NULL")))

    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(400), unique=True, nullable=False)
    message_id = Column(String(200), unique=True, nullable=False)
    campaign_code = Column(ForeignKey("campaigns.code"), nullable=False)
    task_id = Column(ForeignKey("tasks.id"))
    kind = Column(String(32), nullable=False)  # remind | overdue | escalate | report …
    recipient = Column(String(254), nullable=False)
    cc = Column(Text)  # addresses in copy, "; "-separated (the department's contact …)
    template = Column(String(64), nullable=False)
    context = Column(Text, nullable=False)  # canonical JSON
    created_at = Column(INSTANT, nullable=False)
    not_before = Column(INSTANT, nullable=False)
    claimed_at = Column(INSTANT)
    claimed_by = Column(String(64))
    attempts = Column(Integer, default=0, nullable=False)
    last_error = Column(Text)  # the reason, or the server's reply
    sent_at = Column(INSTANT)
    state = Column(String(16), default=WAITING, server_default=WAITING, nullable=False)
    rejections = Column(Integer, default=0, server_default="0", nullable=False)  # 5xx answers
    unclear = Column(Integer, default=0, server_default="0", nullable=False)  # connection lost after DATA
    inputs_sha256 = Column(DIGEST)


class PendingNotice(Base):
    """A notice the sweep decided (a task's level moved), waiting to go into its recipient's digest.

    The sweep writes one row per task, stage and recipient in the batch that raised
    the task's level; at the end of the run every row not yet digested goes into one
    message per (recipient, stage), whose outbox key derives from the set of rows, and
    the rows take that key — in one transaction, so a crash re-digests the same set
    (the same key, the same Message-ID) and a later notice goes into the next digest.
    """

    __tablename__ = "pending_notices"
    __table_args__ = (Index("ix_pending_notices_undigested", "campaign_code", "recipient", "stage",  # a digest's own
                            sqlite_where=text("digest_key IS NULL"), postgresql_where=text("digest_key IS NULL")),
                      UniqueConstraint("task_id", "level", "recipient"))

    id = Column(Integer, primary_key=True, autoincrement=True)
    # No foreign keys: the sweep writes these from the task it holds claimed, and a wave's checks cost more than
    # its rows (migration 0016); the digest drops a notice whose task is done or gone.
    campaign_code = Column(String(64), nullable=False)
    task_id = Column(Integer, nullable=False)
    level = Column(Integer, nullable=False)
    stage = Column(String(16), nullable=False)  # remind | overdue | escalate
    step = Column(String(32), nullable=False)  # the ladder step it reached
    recipient = Column(String(254), nullable=False)
    cc = Column(Text)
    item = Column(Text, nullable=False)  # canonical JSON: what the digest's line about this task says
    decided_at = Column(INSTANT, nullable=False)
    digest_key = Column(String(400))


class OutboxAttachment(Base):
    """A file an outbox message carries, stored when the message is queued (``content`` NULL: it was missing)."""

    __tablename__ = "outbox_attachments"

    message_key = Column(ForeignKey("outbox.key"), primary_key=True)
    position = Column(Integer, primary_key=True, autoincrement=False)
    filename = Column(String(255), nullable=False)
    content = Column(LargeBinary)
