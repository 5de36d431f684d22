"""Checking the audit trail: every hash chain, each against its head."""

from __future__ import annotations

from workflow.audit import ChainReport


def verify_chains(uow) -> list[ChainReport]:
    """Every chain (one per campaign, one for directory imports), checked row by row."""
    with uow:
        return uow.audit.verify()
