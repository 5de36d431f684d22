"""Replies as departments and officers send them: built from the messages we queued, as a mail client would.

``ours(db_url, template, recipient)`` is one of our queued messages (its Message-ID, subject, files);
``reply(...)`` is the raw bytes of an answer to it: From the person, In-Reply-To and References our
Message-ID, the files attached with their Chinese names (RFC 2231, as most clients write them).
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import rows
from workflow.files.email import render
from workflow.persistence.orm import OutboxAttachment, OutboxMessage

OFFICE = "1qqj2463@163.com"


@dataclass(frozen=True)
class Ours:
    message_id: str
    subject: str
    recipient: str
    files: dict[str, bytes]


def ours(db_url: str, template: str, recipient: str) -> Ours:
    """The newest message of ``template`` queued to ``recipient``, with its files."""
    import json

    o, a = OutboxMessage.__table__, OutboxAttachment.__table__
    found = rows(db_url, select(o.c.key, o.c.message_id, o.c.template, o.c.context, o.c.recipient)
                 .where(o.c.template == template, o.c.recipient == recipient).order_by(o.c.id.desc()).limit(1))
    assert found, f"no {template} message to {recipient}"
    row = found[0]
    subject, _ = render(row.template, json.loads(row.context))
    files = {r.filename: r.content for r in rows(db_url, select(a.c.filename, a.c.content)
                                                  .where(a.c.message_key == row.key).order_by(a.c.position))}
    return Ours(row.message_id, subject, row.recipient, files)


def reply(to: Ours | None, *, sender: str, files: dict[str, bytes] | None = None, body: str = "已办理，请查收。",
          subject: str | None = None, when: datetime | None = None, message_id: str | None = None) -> bytes:
    """The raw reply (bytes, CRLF), as a client sends it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OFFICE
    msg["Subject"] = subject if subject is not None else f"回复：{to.subject}" if to else "报送材料"
    msg["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[-1])
    if when is not None:
        msg["Date"] = format_datetime(when)
    if to is not None:
        msg["In-Reply-To"] = to.message_id
        msg["References"] = to.message_id
    msg.set_content(body)
    for name, content in (files or {}).items():
        maintype, subtype = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def filled_list(content: bytes, answers: dict[str, tuple[str, str]] | None = None, *, default=("是", "")) -> bytes:
    """A department's list filled in: 是否检查 and 不检查理由 per USCC (``default`` for the rest)."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    for r in range(2, sheet.max_row + 1):
        uscc = sheet.cell(r, 3).value
        choice, reason = (answers or {}).get(uscc, default)
        sheet.cell(r, 4).value, sheet.cell(r, 5).value = choice, reason or None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def usccs_of(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[2]]


def filled_form(content: bytes, officers: list[str], *, date: str = "2019-12-10", code: str = "1") -> bytes:
    """An officer's 一企一表 filled in WPS or Excel: the visit cells and every item's result (the hidden map)."""
    book = load_workbook(io.BytesIO(content))
    sheet, mapping = book["一企一表"], {k: v for k, v in book["ssj"].iter_rows(min_row=2, values_only=True)}
    sheet[mapping["date_cell"]] = date
    sheet[mapping["officers_cell"]] = "、".join(officers)
    sheet[mapping["signature_cell"]] = "签字"
    sheet[mapping["questions_cell"]] = 1
    for key, row in mapping.items():
        if key.startswith("item:"):
            sheet[f"D{row}"], sheet[f"E{row}"] = "实地核查", code
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
