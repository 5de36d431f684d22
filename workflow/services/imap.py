"""The office's mailbox over IMAP: list, read (never marking \\Seen), move and append messages.

Replies from departments and officers arrive in one folder (``SSJ_IMAP_FOLDER``, INBOX by default); once read
they are moved to ``已处理`` or ``需人工处理``. A move never loses a message: the server's MOVE when it has one,
else UID COPY, then \\Deleted and UID EXPUNGE of that message only. Folder names are Chinese, so they travel in
IMAP's modified UTF-7 (RFC 3501 §5.1.3). TLS uses the system's trusted CAs; an office with a private CA points
the standard ``SSL_CERT_FILE`` at a bundle that holds it (``ssl.create_default_context`` honours it).
Every failure to reach, log into or use the server is ``MailboxUnavailable``, its text a Chinese reason with
the system's own words in brackets.
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from workflow.errors import UserError
from workflow.services.server_settings import security_and_port

if TYPE_CHECKING:
    from workflow.services.maildir import MaildirMailbox


class MailboxNotConfigured(UserError):
    """A bad SSJ_IMAP_* value: refused at start-up, never guessed around."""


class MailboxUnavailable(Exception):
    """The mailbox cannot be reached, logged into or used (folder missing, a command refused): nothing was moved."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int = 993
    security: str = "ssl"  # none | starttls | ssl
    user: str = ""
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ImapConfig | None":
        """SSJ_IMAP_HOST, SSJ_IMAP_PORT, SSJ_IMAP_SECURITY, SSJ_IMAP_USER, SSJ_IMAP_PASSWORD, SSJ_IMAP_FOLDER.

        None without a host (no mailbox to read); a bad value is refused with the variable named."""
        host = environ.get("SSJ_IMAP_HOST", "").strip()
        if not host:
            return None
        security, port = security_and_port(environ, "SSJ_IMAP", default_security="ssl",
                                           ports={"none": 143, "starttls": 143, "ssl": 993},
                                           refused=MailboxNotConfigured)
        user = environ.get("SSJ_IMAP_USER", "").strip()
        if not user:
            raise MailboxNotConfigured("已设置 SSJ_IMAP_HOST，但未设置 SSJ_IMAP_USER：请填写登录收件服务器的用户名"
                                       "（以及 SSJ_IMAP_PASSWORD）")
        folder = environ.get("SSJ_IMAP_FOLDER", "").strip() or "INBOX"
        if any(ord(c) < 0x20 or c == "\x7f" for c in folder):
            raise MailboxNotConfigured(f"环境变量 SSJ_IMAP_FOLDER 的值“{folder!r}”无效：文件夹名不能含控制字符")
        return cls(host, port, security, user, environ.get("SSJ_IMAP_PASSWORD", ""), folder)


def encode_folder(name: str) -> str:
    """IMAP modified UTF-7 (RFC 3501 §5.1.3): printable ASCII as is, ``&`` as ``&-``, the rest as UTF-16BE in
    base64 with ``,`` for ``/``, between ``&`` and ``-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_folder(name: str) -> str:
    """The inverse of ``encode_folder``; a malformed name is a ``ValueError``."""
    def shifted(match: re.Match[str]) -> str:
        body = match.group(1)
        if not body:
            return "&"
        data = base64.b64decode(body.replace(",", "/") + "=" * (-len(body) % 4), validate=True)
        return data.decode("utf-16-be")

    if "&" in re.sub(r"&[^-]*-", "", name):
        raise ValueError(f"不是合法的 IMAP 文件夹名：{name}")
    try:
        return re.sub(r"&([^-]*)-", shifted, name)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"不是合法的 IMAP 文件夹名：{name}") from exc


def quote(text: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_WHY = (  # the most specific first, as in smtp.py
    (ConnectionRefusedError, "连接被拒绝，服务器未运行或端口不对"),
    (ConnectionResetError, "连接被服务器重置"),
    (TimeoutError, "连接超时"),
    (socket.gaierror, "无法解析服务器地址"),
    (ssl.SSLCertVerificationError, "服务器证书验证失败（使用自有 CA 时请让 SSL_CERT_FILE 指向含该 CA 的证书文件）"),
    (ssl.SSLError, "加密连接（TLS）建立失败，请检查 SSJ_IMAP_SECURITY 和 SSJ_IMAP_PORT"),
    (imaplib.IMAP4.abort, "与收件服务器的连接中断"),
    (imaplib.IMAP4.error, "收件服务器返回错误"),
    (OSError, "网络错误"),
)


def _words(exc: BaseException) -> str:
    """The system's own words: an OSError's text, or the server's answer imaplib wrapped (often as bytes)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.strip()
    arg = exc.args[0] if len(exc.args) == 1 else str(exc)
    return (arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)).strip()


def reason(exc: BaseException) -> str:
    """Why, in Chinese, with the system's own words in brackets: ``连接被拒绝，服务器未运行或端口不对（Connection refused）``."""
    said = _words(exc)
    what = next((text for kind, text in _WHY if isinstance(exc, kind)), "未知错误")
    return f"{what}（{said[:300]}）" if said else what


@dataclass(frozen=True)
class StoredMessage:
    uid: str  # the server's UID (stable within the folder), or the Maildir key
    size: int  # bytes
    received_at: datetime | None = None  # when the server took it (INTERNALDATE; the Maildir file's time)


def _said(data: list) -> str:
    """The server's words from a tagged answer's data."""
    parts = [d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data if d is not None]
    return " ".join(parts).strip()[:300]


# RFC 2971: who the client is. NetEase (163.com, 126.com) requires it before SELECT.
IDENTITY = '("name" "shuangsuiji" "version" "1" "vendor" "shuangsuiji" "support-email" "noreply@shuangsuiji.invalid")'
_ITEM = re.compile(rb'UID (\d+)|RFC822\.SIZE (\d+)|FLAGS \(([^)]*)\)|INTERNALDATE "([^"]+)"')


def _internal_date(text: bytes | None) -> datetime | None:
    """``30-Nov-2026 18:40:02 +0800`` as an aware instant (None when absent or unreadable)."""
    if not text:
        return None
    try:
        return datetime.strptime(text.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


class ImapMailbox:
    """One session with the office's mailbox, the configured folder selected: ``with ImapMailbox(config) as box``."""

    def __init__(self, config: ImapConfig):
        self.config = config
        self.label = f"imap://{config.user}@{config.host}:{config.port}/{config.folder}"
        self._imap: imaplib.IMAP4 | None = None
        self._capabilities: set[str] = set()

    # -- session ---------------------------------------------------------------------------------------
    def __enter__(self) -> "ImapMailbox":
        config = self.config
        try:
            if config.security == "ssl":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(config.host, config.port, timeout=config.timeout,
                                                        ssl_context=ssl.create_default_context())
            else:
                imap = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(reason(exc)) from exc
        self._imap = imap
        try:
            if config.security == "starttls":
                if "STARTTLS" not in imap.capabilities:
                    raise MailboxUnavailable("收件服务器不支持 STARTTLS，请检查 SSJ_IMAP_SECURITY 和 SSJ_IMAP_PORT")
                imap.starttls(ssl.create_default_context())
            try:
                imap.login(config.user, config.password)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as exc:
                raise MailboxUnavailable(f"登录被拒绝，请检查 SSJ_IMAP_USER 和 SSJ_IMAP_PASSWORD（{_words(exc)}）") from exc
            typ, data = imap.capability()
            said = data[-1].decode("ascii", "replace").upper().split() if typ == "OK" and data else []
            self._capabilities = set(said)
            if "ID" in self._capabilities:  # 163.com refuses SELECT ("Unsafe Login") to a client that has not said who
                imap.xatom("ID", IDENTITY)
            typ, data = imap.select(quote(encode_folder(config.folder)))
            if typ != "OK":
                raise MailboxUnavailable(f"收件服务器上没有文件夹“{config.folder}”，请检查 SSJ_IMAP_FOLDER（{_said(data)}）")
        except MailboxUnavailable:
            self._close()
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            self._close()
            raise MailboxUnavailable(reason(exc)) from exc
        return self

    def __exit__(self, *exc_info) -> None:
        self._close()

    def _close(self) -> None:
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            try:
                imap.shutdown()
            except OSError:
                pass

    def _run(self, *args: str) -> list:
        """``UID <args>``; anything but OK is ``MailboxUnavailable``."""
        if self._imap is None:
            raise MailboxUnavailable("邮箱未打开（应在 with 语句中使用）")
        try:
            typ, data = self._imap.uid(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(reason(exc)) from exc
        if typ != "OK":
            raise MailboxUnavailable(f"收件服务器拒绝了 UID {args[0]} 命令（{_said(data)}）")
        return data

    def _command(self, name: str, *args: str) -> tuple[str, list]:
        if self._imap is None:
            raise MailboxUnavailable("邮箱未打开（应在 with 语句中使用）")
        try:
            return getattr(self._imap, name)(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(reason(exc)) from exc

    # -- the interface ---------------------------------------------------------------------------------
    def messages(self) -> list[StoredMessage]:
        """Every message now in the folder, oldest (lowest UID) first; those flagged \\Deleted are already gone."""
        if not self._run("SEARCH", "ALL")[0].split():
            return []
        found: dict[int, StoredMessage] = {}
        for item in self._run("FETCH", "1:*", "(UID RFC822.SIZE FLAGS INTERNALDATE)"):
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid = size = arrived = None
            flags = b""
            for match in _ITEM.finditer(line):
                uid = match.group(1) or uid
                size = match.group(2) or size
                flags = match.group(3) if match.group(3) is not None else flags
                arrived = match.group(4) or arrived
            if uid is not None and size is not None and b"\\deleted" not in flags.lower():
                found[int(uid)] = StoredMessage(uid.decode(), int(size), _internal_date(arrived))
        return [found[key] for key in sorted(found)]

    def fetch(self, uid: str) -> bytes:
        """The whole raw message; BODY.PEEK leaves its \\Seen flag as it was."""
        return self._body(uid, "BODY.PEEK[]")

    def headers(self, uid: str) -> bytes:
        """Only the header block (with its closing blank line): what a message too big to read is judged by."""
        return self._body(uid, "BODY.PEEK[HEADER]")

    def _body(self, uid: str, item: str) -> bytes:
        uid = self._uid(uid)
        for part in self._run("FETCH", uid, f"({item})"):
            if isinstance(part, tuple) and re.search(rb"\bUID " + uid.encode() + rb"\b", part[0]):
                return part[1]
        raise MailboxUnavailable(f"文件夹“{self.config.folder}”中已没有 UID 为 {uid} 的邮件（可能已被其他程序移走）")

    def move(self, uid: str, folder: str) -> None:
        """To ``folder`` (created when missing). Without MOVE: copy first, then remove this one message only."""
        uid = self._uid(uid)
        target = quote(encode_folder(folder))
        if not any(re.search(rb"\bUID " + uid.encode() + rb"\b", line) for line in self._run("FETCH", uid, "(UID)")
                   if isinstance(line, bytes)):  # the server answers OK to a move of nothing
            raise MailboxUnavailable(f"文件夹“{self.config.folder}”中已没有 UID 为 {uid} 的邮件（可能已被其他程序移走）")
        self._ensure(folder)
        if "MOVE" in self._capabilities:
            self._run("MOVE", uid, target)
            return
        self._run("COPY", uid, target)  # the copy exists before the original is touched
        self._run("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in self._capabilities:
            self._run("EXPUNGE", uid)
        else:  # only messages flagged \Deleted go: this one, and any another client already meant to delete
            typ, data = self._command("expunge")
            if typ != "OK":
                raise MailboxUnavailable(f"收件服务器拒绝了 EXPUNGE 命令（{_said(data)}）")

    def append(self, raw: bytes, folder: str | None = None, *, received_at: datetime | None = None) -> None:
        """IMAP APPEND to ``folder`` (created when missing), else to the configured folder; ``received_at``: its
        INTERNALDATE (default: now, as the server's delivery would set it)."""
        name = folder or self.config.folder
        if folder:
            self._ensure(folder)
        when = imaplib.Time2Internaldate(received_at) if received_at is not None else None
        typ, data = self._command("append", quote(encode_folder(name)), "", when, raw)
        if typ != "OK":
            raise MailboxUnavailable(f"收件服务器拒绝保存邮件到文件夹“{name}”（{_said(data)}）")

    def folders(self) -> list[str]:
        """Every folder's name as people read it (decoded)."""
        typ, data = self._command("list", '""', "*")
        if typ != "OK":
            raise MailboxUnavailable(f"收件服务器拒绝列出文件夹（{_said(data)}）")
        names = []
        for line in data:
            if isinstance(line, tuple):
                line = line[0] + b'"' + line[1] + b'"'  # a name sent as a literal
            match = re.match(rb'\(.*?\) (?:"(?:\\.|[^"])*"|NIL) (.*)$', line or b"")
            if match:
                name = match.group(1).decode("utf-8", "replace")
                if name.startswith('"'):
                    name = re.sub(r'\\(.)', r'\1', name[1:-1])
                names.append(decode_folder(name))
        return names

    def _ensure(self, folder: str) -> None:
        encoded = quote(encode_folder(folder))
        typ, data = self._command("list", '""', encoded)
        if typ == "OK" and any(d for d in data):
            return
        typ, data = self._command("create", encoded)
        if typ != "OK":
            raise MailboxUnavailable(f"无法在收件服务器上创建文件夹“{folder}”（{_said(data)}）")
        self._command("subscribe", encoded)  # so mail clients that show subscribed folders only show it too

    @staticmethod
    def _uid(uid: str) -> str:
        if not str(uid).isdigit():
            raise ValueError(f"不是 IMAP UID：{uid!r}")
        return str(uid)


def open_mailbox(environ: Mapping[str, str]) -> "ImapMailbox | MaildirMailbox | None":
    """IMAP when SSJ_IMAP_HOST is set, else the Maildir at SSJ_MAILDIR (the demo's local mailbox), else None."""
    config = ImapConfig.from_env(environ)
    if config is not None:
        return ImapMailbox(config)
    path = environ.get("SSJ_MAILDIR", "").strip()
    if path:
        from pathlib import Path

        from workflow.services.maildir import MaildirMailbox

        return MaildirMailbox(Path(path))
    return None
