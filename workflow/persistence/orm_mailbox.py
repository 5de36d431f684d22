"""The office mailbox's tables: each message read (once, by Message-ID) and what became of it; each pass.

A message is recorded in the transaction that records its answer (a department's list,
a stamped report, an officer's forms), so a pass killed between the two leaves neither;
the message is moved out of the inbox after that commit, and a message found again whose
Message-ID is recorded is only moved (a duplicate delivery, or a move that did not happen).
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.persistence.orm import Base, Instant


class InboundMessage(Base):
    """One message of the office mailbox and its outcome: 已记录 (recorded), 已退回 (refused, the sender told
    why), 需人工处理 (for the office: not ours, not from whom it should be)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_campaign", "campaign_code", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(400), unique=True)  # its Message-ID, else "sha256:" of the bytes
    handled_at: Mapped[Instant]
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    campaign_code: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(32))  # confirm_list | confirmation_report | summary | forms | acknowledge
    party: Mapped[str | None] = mapped_column(String(64))  # the department's code or the officer's certificate number
    outcome: Mapped[str] = mapped_column(String(16))
    folder: Mapped[str] = mapped_column(String(16))  # 已处理 | 需人工处理
    detail: Mapped[str] = mapped_column(Text)  # in Chinese: what was recorded, every problem, or why it waits
    files: Mapped[str] = mapped_column(Text)  # canonical JSON: [{"name", "sha256", "size"}]
    reply_key: Mapped[str | None] = mapped_column(String(400))  # the outbox key of our answer


class MailboxPass(Base):
    """One pass over the office mailbox (``ssj mailbox`` or a tick): what it read and did, or why it could not."""

    __tablename__ = "mailbox_passes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[Instant]
    source: Mapped[str] = mapped_column(String(300))  # imap://user@host:port/INBOX, or the local Maildir
    scope: Mapped[str] = mapped_column(Text)  # the campaigns asked for, "; "-separated ("" for all)
    read: Mapped[int] = mapped_column(Integer)
    recorded: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    manual: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)  # the server could not be reached, in Chinese
