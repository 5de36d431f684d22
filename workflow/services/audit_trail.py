"""Checking the audit trail: every hash chain against its head and the anchors published, and each campaign's
tables against its chain (``workflow.replay``); the heads to publish (``ssj audit anchor``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from workflow.audit import Anchor, ChainReport, anchor_line, campaign_chain
from workflow.campaign_counts import discrepancies
from workflow.files.email import carries_anchor
from workflow.mail import Mail
from workflow.persistence.audit_log import Head
from workflow.persistence.audit_replay import ReplayTables
from workflow.persistence.counts import stored as stored_counts, tally
from workflow.replay import compare, replay


@dataclass(frozen=True)
class TableReport:
    """One campaign's tables against its chain: ``differences`` in Chinese (enterprise, table, field)."""

    code: str
    enterprises: int
    differences: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)  # the kept counts against a recount of the tables

    @property
    def ok(self) -> bool:
        return not self.differences and not self.counts


def verify_chains(uow, anchors: Iterable[Anchor] = ()) -> list[ChainReport]:
    """Every chain (one per campaign, one for directory imports), checked row by row, and against ``anchors``."""
    with uow:
        return uow.audit.verify(anchors)


def verify_tables(uow) -> list[TableReport]:
    """Each campaign's chain replayed and compared with its tables (one pass per table), and its kept counts with a
    recount of the tables (counts not kept yet are recounted when read: nothing to compare)."""
    reports = []
    with uow:
        tables = ReplayTables(uow.conn)
        departments = uow.directory.department_names()
        for code in uow.campaigns.codes():
            recorded = replay(tables.rows(campaign_chain(code)))
            stored, names = tables.campaign(code)
            differences = compare(recorded, stored)
            kept = stored_counts(uow.conn, code)
            counts = [] if kept is None else discrepancies(kept, tally(uow.conn, code=code).get(code, {}), departments)
            reports.append(TableReport(code, len(recorded), [d.line(names.get(d.uscc, "")) for d in differences],
                                       counts))
    return reports


def chain_heads(uow, chains: Iterable[str] | None = None) -> list[Head]:
    """Every chain's head now (or these chains'), to publish."""
    with uow:
        return uow.audit.heads(chains)


def head_line(head: Head) -> str:
    """A head as one anchor line (``workflow.audit.anchor_line``)."""
    return anchor_line(head.chain, head.seq, head.hash, head.at)


def campaign_anchor(uow) -> str | None:
    """The campaign's chain head as an anchor line, read inside the unit of work's transaction (which holds that
    head when it changes the campaign): what a mail or a public file carries. None before the chain's first row."""
    heads = uow.audit.heads([campaign_chain(uow.plan.code)])
    return head_line(heads[0]) if heads else None


def with_anchor(uow, mails: Sequence[Mail]) -> list[Mail]:
    """The mails that carry the campaign's head (``files.email.carries_anchor``), given it in their context."""
    if not any(carries_anchor(m.template) for m in mails):
        return list(mails)
    line = campaign_anchor(uow)
    return [Mail(m.key, m.recipient, m.kind, m.template, {**m.context, "audit_anchor": line}, m.task_id, m.cc)
            if line and carries_anchor(m.template) else m for m in mails]
