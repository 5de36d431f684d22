"""``documents``: the files departments send the office, kept exactly as sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from workflow.persistence.orm import SubmittedDocument

_doc = SubmittedDocument.__table__


class DocumentRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, campaign_code: str, kind: str, department: str, *, filename: str, content: bytes, sha256: str,
            parts: dict[str, str], now: datetime, actor: str) -> None:
        self.conn.execute(insert(_doc).values(
            campaign_code=campaign_code, kind=kind, department_code=department, filename=filename, content=content,
            sha256=sha256, submitted_at=now, submitted_by=actor, **{k: v or None for k, v in parts.items()}))

    def latest(self, campaign_code: str, kind: str) -> dict[str, object]:
        """Per department, the last file of ``kind`` it sent (filename, when, its 亮点/经验做法/存在问题)."""
        return {r.department_code: r for r in self.conn.execute(
            select(_doc.c.department_code, _doc.c.filename, _doc.c.submitted_at, _doc.c.highlights,
                   _doc.c.practices, _doc.c.problems)
            .where(_doc.c.campaign_code == campaign_code, _doc.c.kind == kind).order_by(_doc.c.submitted_at))}
