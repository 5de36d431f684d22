"""One raw message from the office's mailbox, turned into a value the answer-recognition core can trust.

Replies come from 163.com, QQ mail, Foxmail, Outlook, WPS mail and old government webmail, and each gets
Chinese wrong its own way: ``gb2312`` labels on GBK text, raw 8-bit GBK in header parameters, RFC 2047 words
inside quoted RFC 2231-less parameters, multibyte characters split across encoded words. So the message is
parsed with ``policy.compat32`` (it never raises on a broken header and leaves every header raw) and every
header is decoded here, from its bytes, with one charset rule (``_decode_bytes``). ``parse_message`` never
raises: a garbage message gives an ``InboundMail`` holding what could be read.

Decisions, so the core can rely on them:
- the sender is the ``From`` address only (``Reply-To`` and ``Sender`` are never read);
- a forwarded message (``message/rfc822``) is not the sender's own reply: its text and attachments are left
  out and a note says so in ``ignored``;
- an image without a file name that the HTML embeds (it has a ``Content-ID``: a signature logo) is dropped
  silently; a nameless image the HTML cannot embed is kept as an attachment called ``附件N.ext``;
- an attachment over the limit keeps only its name and size (``oversize``), never its content.
"""

from __future__ import annotations

import binascii
import email
import email.parser
import email.policy
import email.utils
import hashlib
import html.parser
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 20  # deeper nesting is a malformed (or hostile) message, not a reply

TNEF_NOTE = "winmail.dat（Outlook 专用格式，无法读取其中的附件）已忽略，请用普通附件重新发送"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str
    sha256: str


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None
    sender: str
    sender_name: str
    subject: str
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    automatic: bool
    text: str
    attachments: tuple[Attachment, ...]
    ignored: tuple[str, ...]
    oversize: tuple[tuple[str, int], ...]


# --- charsets -------------------------------------------------------------------------------------------------

# Mail labelled with a GB name very often holds GBK-only characters (镕, 堃, 喆 in names): GB18030 is a superset.
_GB_LABELS = {"gb2312", "gbk", "gb18030", "cp936", "ms936", "windows-936", "x-gbk", "euc-cn", "x-euc-cn",
              "csgb2312", "gb_2312-80", "gb2312-80", "gb_2312", "chinese", "iso-ir-58", "csgbk", "936"}
# Labels old clients put on 8-bit Chinese text they never converted: the bytes are tried as UTF-8 and GB18030
# first, the label last.
_WEAK_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "iso8859-1", "windows-1252", "cp1252",
                "unknown-8bit", "x-unknown", "default", "unknown", "8bit", "none", ""}


def _codec(label: str | None) -> str | None:
    """The Python codec to use for a MIME charset label, ``None`` when it is weak, unknown or not text."""
    name = (label or "").strip().strip('"\'').split("*", 1)[0].strip().lower()
    if name in _GB_LABELS:
        return "gb18030"
    if name in _WEAK_LABELS:
        return None
    try:
        b"".decode(name)
    except (LookupError, ValueError, TypeError):  # unknown, or a bytes codec such as zlib
        return None
    return name


def _decode_bytes(data: bytes, label: str | None = None) -> str:
    """Bytes to text: the labelled charset when it decodes them, else UTF-8, else GB18030, else the label (or
    GB18030) with replacement characters — never an exception."""
    codec = _codec(label)
    tries = ([codec] if codec else []) + ["utf-8", "gb18030"]
    if codec is None and label and label.strip().lower() in _WEAK_LABELS - {"unknown-8bit", "x-unknown", ""}:
        tries.append(label.strip().lower())
    for name in tries:
        try:
            return data.decode(name)
        except (LookupError, UnicodeError, ValueError):
            continue
    return data.decode(codec or "gb18030", errors="replace")


def _bytes_of(text: str) -> bytes:
    """The bytes the parser read: it surrogate-escapes the 8-bit ones."""
    try:
        return text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


# --- RFC 2047 -------------------------------------------------------------------------------------------------

_WORD = re.compile(rb"=\?([^?\s]+)\?([BbQq])\?([^?\r\n]*?)\?=")


def _word_bytes(encoding: bytes, text: bytes) -> bytes:
    if encoding in b"Bb":
        text = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
        if len(text) % 4 == 1:
            text = text[:-1]
        text += b"=" * (-len(text) % 4)
        try:
            return binascii.a2b_base64(text)
        except (binascii.Error, ValueError):
            return b""
    try:
        return binascii.a2b_qp(text, header=True)
    except (binascii.Error, ValueError):
        return text


def _decode_words(data: bytes) -> str:
    """RFC 2047 words and raw 8-bit text alike. Adjacent words of one charset are joined as bytes before
    decoding, since some clients split a Chinese character across two words; the space between words goes."""
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: bytes | None = None
    position = 0

    def flush():
        nonlocal pending, pending_charset
        if pending:
            out.append(_decode_bytes(b"".join(pending), pending_charset.decode("ascii", "replace")))
        pending, pending_charset = [], None

    for match in _WORD.finditer(data):
        gap = data[position:match.start()]
        if gap and not (pending and not gap.strip()):
            flush()
            out.append(_decode_bytes(gap))
        charset = match.group(1).split(b"*", 1)[0].lower()
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.append(_word_bytes(match.group(2), match.group(3)))
        position = match.end()
    flush()
    if position < len(data):
        out.append(_decode_bytes(data[position:]))
    return "".join(out)


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(text: str) -> str:
    return _CONTROLS.sub(" ", text).strip()


# --- headers --------------------------------------------------------------------------------------------------

def _raw_headers(msg: Message, name: str) -> list[bytes]:
    """Every value of a header as the bytes sent, unfolded."""
    name = name.lower()
    values = []
    for key, value in msg.raw_items():
        if isinstance(key, str) and key.lower() == name:
            raw = _bytes_of(value) if isinstance(value, str) else _bytes_of(str(value))
            values.append(re.sub(rb"\r?\n(?=[ \t])", b"", raw).replace(b"\r", b" ").replace(b"\n", b" "))
    return values


def _raw_header(msg: Message, name: str) -> bytes | None:
    values = _raw_headers(msg, name)
    return values[0] if values else None


def _header_text(msg: Message, name: str) -> str:
    raw = _raw_header(msg, name)
    return "" if raw is None else _one_line(_decode_words(raw))


_ID = re.compile(r"<([^<>]*)>")


def _ids(raw: bytes | None) -> tuple[str, ...]:
    """Every ``<id>`` in the header; bare ids (old clients drop the brackets) are bracketed."""
    if raw is None:
        return ()
    text = raw.decode("ascii", "replace")
    found = [re.sub(r"\s+", "", m) for m in _ID.findall(text)]
    if not found:
        found = [t for t in re.split(r"[\s,]+", text) if "@" in t]
    return tuple(f"<{i}>" for i in found if i)


def _param(msg: Message, header: str, name: str) -> str | None:
    """A parameter (RFC 2231 continuations and charsets included) decoded from the header's bytes.

    The header's bytes are handed to the parser as Latin-1 characters, so raw 8-bit GBK survives to be decoded
    here (the parser would turn it into replacement characters); a quoted RFC 2047 word is decoded too."""
    raw = _raw_header(msg, header)
    if raw is None:
        return None
    holder = Message()
    holder[header] = raw.decode("latin-1")
    value = holder.get_param(name, header=header)
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        return _decode_bytes(_latin1_bytes(text), charset or None)
    return _decode_words(_latin1_bytes(value))


def _latin1_bytes(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")


_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[\w.-]+$")


_BRACKETED = re.compile(r"^([^<>]*)<\s*([^<>\s]+)\s*>\s*$")


def _sender(msg: Message) -> tuple[str, str]:
    """``(address, display name)`` from ``From`` alone. The address is parsed before the name is decoded (a
    decoded name may hold commas or brackets); when a broken client encoded the address too, after."""
    raw = _raw_header(msg, "From")
    if raw is None:
        return "", ""
    for text, undecoded in ((raw.decode("latin-1"), True), (_decode_words(raw), False)):
        bracketed = _BRACKETED.search(text)  # what mail clients show and answer: the address in <…>, whatever the
        if bracketed and _ADDRESS.match(bracketed.group(2)) and bracketed.group(2).isascii():  # name before it says
            local, domain = bracketed.group(2).rsplit("@", 1)
            name = bracketed.group(1).strip().strip('"').strip()
            shown = _decode_words(_latin1_bytes(name)) if undecoded else name
            return f"{local}@{domain.lower()}", _one_line(shown)
        for name, address in email.utils.getaddresses([text]):
            address = address.strip()
            if _ADDRESS.match(address) and address.isascii():
                local, domain = address.rsplit("@", 1)
                shown = _decode_words(_latin1_bytes(name)) if undecoded else name
                return f"{local}@{domain.lower()}", _one_line(shown)
    return "", _one_line(_decode_words(raw))


def _date(msg: Message) -> datetime | None:
    raw = _raw_header(msg, "Date")
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw.decode("ascii", "replace").strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)  # "-0000": UTC, zone unknown


_AUTO_SUBJECTS = ("自动回复", "自动答复", "自动应答", "系统退信", "退信", "auto reply", "auto-reply", "autoreply",
                  "automatic reply", "out of office", "undeliverable", "undelivered mail",
                  "delivery status notification", "mail delivery failed", "delivery failure")


def _automatic(msg: Message, sender: str, subject: str) -> bool:
    """Mail a machine sent (auto-replies, bounces, lists): answering it would start a mail loop (RFC 3834)."""
    def values(name):
        return [v.decode("latin-1").strip().lower() for v in _raw_headers(msg, name)]

    if any(v.split(";")[0].strip() not in ("no", "") for v in values("Auto-Submitted")):
        return True
    if any(v not in ("no", "false", "0") for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply") for v in values(h)):
        return True
    if any(v in ("bulk", "junk", "list", "auto_reply") for v in values("Precedence")):
        return True
    if values("List-Id"):
        return True
    if any(re.fullmatch(r"<\s*>", v) for v in values("Return-Path")):
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    if sender.split("@")[0].lower() in ("mailer-daemon", "postmaster"):
        return True
    return subject.lower().startswith(_AUTO_SUBJECTS)


# --- body -----------------------------------------------------------------------------------------------------

class _HtmlText(html.parser.HTMLParser):
    """Text a person sees in an HTML body: scripts and styles dropped, blocks on lines of their own."""

    BLOCKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr",
              "pre", "ul", "ol", "dd", "dt", "section", "article", "header", "footer"}
    HIDDEN = {"script", "style", "head", "title", "xml", "o:p_hidden"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 — a broken page still gives the text read so far
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").lstrip("\ufeff")


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return _bytes_of(payload) if isinstance(payload, str) else b""


_UNSAFE = re.compile(r"[<>:\"|?*]")
_MIMETYPES = mimetypes.MimeTypes()  # the built-in table only: the same names on every machine


def safe_filename(name: str | None, number: int, content_type: str) -> str:
    """A base name safe to save: no directories, no control or format characters (a right-to-left override
    could show ``exe.pdf`` for ``fdp.exe``), nothing Windows refuses, at most 200 UTF-8 bytes; never empty."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if not name:
        return f"附件{number}{_MIMETYPES.guess_extension(content_type) or '.bin'}"
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode("utf-8")) > 200 and stem:
        stem = stem[:-1]
    return stem + suffix


@dataclass
class _Body:
    plain: list[str]
    html: list[str]
    attachments: list[Attachment]
    ignored: list[str]
    oversize: list[tuple[str, int]]
    limit: int
    count: int = 0


def _filename(part: Message) -> str | None:
    return _param(part, "Content-Disposition", "filename") or _param(part, "Content-Type", "name")


def _disposition(part: Message) -> str:
    raw = _raw_header(part, "Content-Disposition")
    return raw.decode("latin-1").split(";")[0].strip().lower() if raw else ""


def _forwarded_note(part: Message) -> str:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
    subject = _header_text(inner, "Subject") if inner is not None else ""
    count = 0
    if inner is not None:
        count = sum(1 for p in inner.walk() if not p.is_multipart() and (_filename(p) or
                                                                          _disposition(p) == "attachment"))
    what = f"转发的邮件“{subject}”" if subject else "转发的邮件"
    extra = f"及其中的 {count} 个附件" if count else ""
    return f"{what}{extra}未收取（转发的内容不算本人的回复，如需提交请作为普通附件发送）"


def _walk(part: Message, body: _Body, depth: int) -> None:
    content_type = part.get_content_type()
    if depth > MAX_DEPTH:
        body.ignored.append("邮件嵌套层数过多，更深处的内容已忽略")
        return
    if content_type == "message/rfc822":
        body.ignored.append(_forwarded_note(part))
        return
    if part.get_content_maintype() == "message":
        return  # delivery reports and read receipts: nothing the sender wrote
    if part.is_multipart():
        children = part.get_payload()
        for child in children if isinstance(children, list) else ():
            if isinstance(child, Message):
                _walk(child, body, depth + 1)
        return
    name = _filename(part)
    disposition = _disposition(part)
    if content_type in ("application/ms-tnef", "application/vnd.ms-tnef") or (name or "").lower() == "winmail.dat":
        body.ignored.append(TNEF_NOTE)
        return
    if content_type in ("text/plain", "text/html") and not name and disposition != "attachment":
        text = _clean_text(_decode_bytes(_payload(part), _param(part, "Content-Type", "charset")))
        (body.plain if content_type == "text/plain" else body.html).append(text)
        return
    if not name and part.get_content_maintype() == "image" and part.get("Content-ID") is not None:
        return  # an image the HTML embeds (a signature logo), not something sent
    body.count += 1
    data = _payload(part)
    filename = safe_filename(name, body.count, content_type)
    if len(data) > body.limit:
        body.oversize.append((filename, len(data)))
        return
    body.attachments.append(Attachment(filename, data, content_type, hashlib.sha256(data).hexdigest()))


# --- the message ----------------------------------------------------------------------------------------------

def _parse(raw: bytes, limit: int) -> InboundMail:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        whole = True
    except Exception:  # noqa: BLE001 — e.g. nesting deep enough to exhaust the parser's recursion
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        whole = False
    sender, sender_name = _sender(msg)
    subject = _header_text(msg, "Subject")
    message_id = _ids(_raw_header(msg, "Message-ID"))
    body = _Body([], [], [], [], [], limit)
    if whole:
        try:
            _walk(msg, body, 0)
        except Exception:  # noqa: BLE001
            body.ignored.append("邮件结构损坏，部分正文或附件无法读取")
    else:
        body.ignored.append("邮件结构损坏，正文和附件无法读取")
    plain = "\n\n".join(t for t in body.plain if t.strip())
    text = plain if plain.strip() or not body.html else "\n\n".join(html_to_text(t) for t in body.html)
    return InboundMail(
        message_id=message_id[0] if message_id else None,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        date=_date(msg),
        in_reply_to=_ids(_raw_header(msg, "In-Reply-To")),
        references=_ids(_raw_header(msg, "References")),
        automatic=_automatic(msg, sender, subject),
        text=text,
        attachments=tuple(body.attachments),
        ignored=tuple(dict.fromkeys(body.ignored)),
        oversize=tuple(body.oversize),
    )


def parse_message(raw: bytes, *, max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> InboundMail:
    """The message as the core reads it. Never raises: on bytes nothing can be made of, an empty value whose
    ``ignored`` says the message could not be read."""
    try:
        return _parse(bytes(raw), max_attachment_bytes)
    except Exception:  # noqa: BLE001 — one unreadable message must not stop the mailbox
        return InboundMail(None, "", "", "", None, (), (), False, "", (), ("邮件无法解析，已忽略",), ())


def references_of(mail: InboundMail) -> tuple[str, ...]:
    """The ids this message answers, closest first: In-Reply-To, then References newest (last) first."""
    return tuple(dict.fromkeys(mail.in_reply_to + tuple(reversed(mail.references))))
