"""The office mailbox's tables: each message read (once, by Message-ID) and what became of it; each pass.

A message is recorded in the transaction that records its answer (a department's list,
a stamped report, an officer's forms), so a pass killed between the two leaves neither;
the message is moved out of the inbox after that commit, and a message found again whose
Message-ID is recorded is only moved (a duplicate delivery, or a move that did not happen).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Text

from workflow.persistence.declared import INSTANT, Base


class InboundMessage(Base):
    """One message of the office mailbox and its outcome: 已记录 (recorded), 已退回 (refused, the sender told
    why), 需人工处理 (for the office: not ours, not from whom it should be)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_campaign", "campaign_code", "outcome"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    message_id = Column(String(400), unique=True, nullable=False)  # its Message-ID, else "sha256:" of the bytes
    handled_at = Column(INSTANT, nullable=False)
    sender = Column(String(254), nullable=False)
    subject = Column(Text, nullable=False)
    campaign_code = Column(String(64))
    kind = Column(String(32))  # confirm_list | confirmation_report | summary | forms | acknowledge
    party = Column(String(64))  # the department's code or the officer's certificate number
    outcome = Column(String(16), nullable=False)
    folder = Column(String(16), nullable=False)  # 已处理 | 需人工处理
    detail = Column(Text, nullable=False)  # in Chinese: what was recorded, every problem, or why it waits
    files = Column(Text, nullable=False)  # canonical JSON: [{"name", "sha256", "size"}]
    reply_key = Column(String(400))  # the outbox key of our answer


class MailboxPass(Base):
    """One pass over the office mailbox (``ssj mailbox`` or a tick): what it read and did, or why it could not."""

    __tablename__ = "mailbox_passes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    started_at = Column(INSTANT, nullable=False)
    source = Column(String(300), nullable=False)  # imap://user@host:port/INBOX, or the local Maildir
    scope = Column(Text, nullable=False)  # the campaigns asked for, "; "-separated ("" for all)
    read = Column(Integer, nullable=False)
    recorded = Column(Integer, nullable=False)
    refused = Column(Integer, nullable=False)
    manual = Column(Integer, nullable=False)
    error = Column(Text)  # the server could not be reached, in Chinese
