"""How a simulated department or officer answers: he replies to the message he received, as his mail client would.

The demo's local SMTP server keeps every message the product sent as ``邮件/NNNN-主题.eml``
(``Inbox`` finds the one a person received). A reply is a real MIME message as Foxmail or
the 163 webmail writes it — From the person's directory address, To the office mailbox
the message asked him to answer (its Reply-To), Subject ``回复：`` and the original subject,
In-Reply-To/References the original Message-ID, the original quoted, files attached under
their Chinese names (RFC 2047 in GB18030, or RFC 2231 in UTF-8) — delivered into the demo's
local office mailbox, a Maildir (``办公室邮箱/``), dated at the simulated instant so the
product reads when it arrived. The helpers to fill the files (a list, a 一企一表) do what the
person does in WPS: they open the attached workbook, fill the cells, save it under its name.
"""

from __future__ import annotations

import base64
import hashlib
import io
import mailbox
import mimetypes
import zlib
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path

from openpyxl import load_workbook

OFFICE_MAILBOX = "办公室邮箱"  # the demo's office mailbox (a Maildir) under its output folder
FOXMAIL, WEBMAIL = "foxmail", "163"  # the two ways of writing Chinese mail the demo's people use


@dataclass(frozen=True)
class Received:
    """A message the product sent, as its recipient's client shows it."""

    message_id: str
    subject: str
    sender: str  # its From (the system's address)
    reply_to: str  # where a reply goes: the office mailbox
    readers: tuple[str, ...]  # To and Cc, lower case
    date: datetime
    text: str
    files: dict[str, bytes]


class Inbox:
    """Every message the demo's SMTP server kept (``邮件/*.eml``), read as it arrives (the files only grow)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.seen: dict[str, tuple[str, tuple[str, ...]]] = {}  # file name → (subject, readers)

    def newest(self, reader: str, prefix: str, *, naming: str = "") -> Received | None:
        """The newest message to ``reader`` (To or Cc) whose subject starts with ``prefix`` (and whose text names
        ``naming``), or None."""
        for path in sorted(self.folder.glob("*.eml")):
            if path.name not in self.seen:
                head = message_from_bytes(path.read_bytes(), policy=policy.default)
                readers = tuple(a.lower() for _, a in getaddresses([str(head.get("To", "")), str(head.get("Cc", ""))]))
                self.seen[path.name] = (str(head["Subject"]), readers)
        for name in sorted(self.seen, reverse=True):
            subject, readers = self.seen[name]
            if subject.startswith(prefix) and reader.lower() in readers:
                found = _received(self.folder / name)
                if naming in found.text:
                    return found
        return None


def _received(path: Path) -> Received:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = msg.get_body(("plain",))
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments() if part.get_filename()}
    readers = tuple(a.lower() for _, a in getaddresses([str(msg.get("To", "")), str(msg.get("Cc", ""))]))
    sender = parseaddr(str(msg["From"]))[1]
    reply_to = parseaddr(str(msg.get("Reply-To", "")))[1] or sender
    return Received(str(msg["Message-ID"]).strip(), str(msg["Subject"]), sender, reply_to, readers,
                    msg["Date"].datetime, body.get_content() if body is not None else "", files)


def client_of(address: str) -> str:
    """Which mail client a person uses (fixed by his address, so the demo replays identically)."""
    return FOXMAIL if hashlib.sha256(address.encode()).digest()[0] % 2 else WEBMAIL


def reply(original: Received, *, sender: str, name: str, text: str, at: datetime,
          files: dict[str, bytes] | None = None) -> bytes:
    """The raw reply (CRLF) to ``original`` from ``sender`` (his name ``name``), sent at ``at``, with ``files``."""
    client = client_of(sender)
    charset = "gb18030" if client == FOXMAIL else "utf-8"
    quoted = _quoted(original, client)
    body = MIMEText(f"{text}\n\n{quoted}", "plain", charset)
    msg = MIMEMultipart("mixed") if files else body
    if files:
        msg.attach(body)
        for filename, content in files.items():
            msg.attach(_attachment(filename, content, client))
    msg["From"] = f"{Header(name, charset).encode()} <{sender}>"
    msg["To"] = original.reply_to
    msg["Subject"] = Header(f"回复：{original.subject}", charset).encode()
    msg["Date"] = format_datetime(at)
    domain = sender.split("@")[-1]
    seed = hashlib.sha256(f"{sender}|{original.message_id}|{at.isoformat()}".encode()).hexdigest()
    msg["Message-ID"] = f"<{seed[:24]}.{seed[24:32]}@{domain}>"
    msg["In-Reply-To"] = original.message_id
    msg["References"] = original.message_id
    msg["X-Mailer"] = "Foxmail 7.2.25.254[cn]" if client == FOXMAIL else "Coremail Webmail Server Version XT5.0.14"
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _quoted(original: Received, client: str) -> str:
    """The original below the answer, the way each client quotes it."""
    when = original.date.astimezone(original.date.tzinfo)
    if client == FOXMAIL:
        return "\n".join(["------------------ 原始邮件 ------------------", f"发件人: <{original.sender}>",
                          f"发送时间: {when:%Y年%m月%d日 %H:%M}", f"主题: {original.subject}", "", original.text])
    return f"在 {when:%Y-%m-%d %H:%M:%S}，<{original.sender}> 写道：\n" + "\n".join(
        f">{line}" for line in original.text.splitlines())


def _attachment(filename: str, content: bytes, client: str) -> MIMEBase:
    """A file under its Chinese name: Foxmail writes RFC 2047 words in GB18030 in quoted parameters, the 163
    webmail RFC 2231 in UTF-8."""
    maintype, subtype = (mimetypes.guess_type(filename)[0] or "application/octet-stream").split("/", 1)
    part = MIMEBase(maintype, subtype)
    part.set_payload(base64.encodebytes(content).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    if client == FOXMAIL:
        word = Header(filename, "gb18030").encode()
        part.set_param("name", word)
        part.add_header("Content-Disposition", "attachment", filename=word)
    else:
        part.set_param("name", ("utf-8", "", filename))
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def deliver(folder: Path, raw: bytes, at: datetime) -> str:
    """Put the message into the Maildir ``folder`` (created when missing), arrived at ``at``; its Message-ID."""
    box = mailbox.Maildir(str(folder), create=True)
    message = mailbox.MaildirMessage(raw)
    message.set_date(at.timestamp())  # the file's mtime: when the office's server took it
    box.add(message)
    return message_from_bytes(raw, policy=policy.default)["Message-ID"].strip()


def filled_list(content: bytes, answers: dict[str, tuple[bool, str]]) -> bytes:
    """A department's list with 是否检查 (是/否) and 不检查理由 filled per USCC, as WPS saves it."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    header = {cell.value: cell.column for cell in sheet[1] if cell.value}
    for r in range(2, sheet.max_row + 1):
        uscc = sheet.cell(r, header["统一社会信用代码"]).value
        if uscc not in answers:
            continue
        inspects, reason = answers[uscc]
        sheet.cell(r, header["是否检查"]).value = "是" if inspects else "否"
        sheet.cell(r, header["不检查理由"]).value = None if inspects else reason
    return _saved(book)


@dataclass(frozen=True)
class ItemAnswer:
    """One row of the form as the officer writes it (columns D–H)."""

    method: str
    codes: str
    finding: str = ""
    handling: str = ""
    note: str = ""


def filled_form(content: bytes, *, day: str, officers: list[str], signature: str, note: str, questions: int,
                items: dict[str, ItemAnswer]) -> bytes:
    """A 一企一表 filled in: the visit cells and each item's row, where the hidden sheet ``ssj`` says they are."""
    book = load_workbook(io.BytesIO(content))
    sheet = book["一企一表"]
    where = {str(k): v for k, v in book["ssj"].iter_rows(min_row=2, values_only=True) if k}
    sheet[where["date_cell"]] = day
    sheet[where["officers_cell"]] = "、".join(officers)
    sheet[where["signature_cell"]] = signature
    sheet[where["note_cell"]] = note or None
    sheet[where["questions_cell"]] = questions
    for code, answer in items.items():
        row = int(where[f"item:{code}"])
        for column, value in zip("DEFGH", (answer.method, answer.codes, answer.finding, answer.handling, answer.note)):
            sheet[f"{column}{row}"] = value or None
    return _saved(book)


def items_of(content: bytes) -> list[str]:
    """The item codes on a 一企一表, in the form's order."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = [(str(k), v) for k, v in book["ssj"].iter_rows(min_row=2, values_only=True) if k]
    return [k[5:] for k, _ in sorted((r for r in rows if r[0].startswith("item:")), key=lambda r: int(r[1]))]


def _saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scanned_report(title: str, seal: str) -> bytes:
    """A scan of the stamped confirmation report, as a copier's PDF: a page with the table's lines and the red
    round seal (drawn, not typed: a scan has no text to copy), named by what it is, not by its content."""
    ops = ["0.2 w 0 0 0 RG"]
    for y in range(700, 340, -24):  # the table
        ops.append(f"60 {y} m 535 {y} l S")
    for x in (60, 150, 330, 430, 535):
        ops.append(f"{x} 364 m {x} 700 l S")
    ops.append("1.2 w 72 740 m 523 740 l S")  # the title's rule
    cx, cy, r, k = 450, 250, 60, 0.5523 * 60  # the seal: a red circle and its star
    arcs = [(cx + r, cy + k, cx + k, cy + r, cx, cy + r), (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r), (cx + k, cy - r, cx + r, cy - k, cx + r, cy)]
    curves = " ".join(" ".join(f"{v:.1f}" for v in arc) + " c" for arc in arcs)
    ops.append(f"2.5 w 0.85 0.1 0.1 RG {cx + r} {cy} m {curves} S")
    ops.append(f"0.85 0.1 0.1 rg {cx} {cy + 18} m {cx + 6} {cy + 4} l {cx + 18} {cy + 4} l {cx + 8} {cy - 5} l "
               f"{cx + 12} {cy - 19} l {cx} {cy - 10} l {cx - 12} {cy - 19} l {cx - 8} {cy - 5} l {cx - 18} {cy + 4} l "
               f"{cx - 6} {cy + 4} l f")
    stream = zlib.compress("\n".join(ops).encode("ascii"))
    info = f"(scan {hashlib.sha256((title + seal).encode()).hexdigest()[:12]})"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               f"<< /Producer (Scanner) /Title {info} >>".encode("ascii")]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
