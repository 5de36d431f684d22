"""One SMTP session, and what each answer of the server means for a message.

2xx: sent. 4xx, or the connection lost before the message was handed over: try again
later (``Temporary``). 5xx: the server will not take this message (``Refused``, with its
reply) — except a refusal of the sender or of the session (an answer to MAIL FROM, or 530
"authentication required"): that is the sending side's setting, not the recipient's fault,
so the message waits (``Temporary``) until the setting is corrected. The connection lost after the message's data went out, before the server's answer:
it may or may not have been delivered (``Unclear``). A lost connection is re-opened for
the next message, so one bad moment does not cost the rest of the batch.
"""

from __future__ import annotations

import io
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage

from workflow.errors import UserError
from workflow.services.server_settings import security_and_port

LOST = (OSError, smtplib.SMTPServerDisconnected)
NOT_CONFIGURED = ("未配置发信服务器：请设置环境变量 SSJ_SMTP_HOST（以及按需设置 SSJ_SMTP_PORT、SSJ_SMTP_SECURITY、"
                  "SSJ_SMTP_USER、SSJ_SMTP_PASSWORD）；确实不发邮件时加 --no-mail（邮件留在发件箱，看板注明“未发信”）")


class MailNotConfigured(UserError):
    """No SMTP server named: refused at start-up (exit 2), never a silent default."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "SmtpConfig":
        """FORMATS.md: SSJ_SMTP_HOST, SSJ_SMTP_PORT, SSJ_SMTP_SECURITY, SSJ_SMTP_USER, SSJ_SMTP_PASSWORD.

        No host is refused (``MailNotConfigured``): a quiet default of 127.0.0.1:25 let every tick look
        green while no mail ever left."""
        host = environ.get("SSJ_SMTP_HOST", "").strip()
        if not host:
            raise MailNotConfigured(NOT_CONFIGURED)
        security, port = security_and_port(environ, "SSJ_SMTP", default_security="none",
                                           ports={"none": 25, "starttls": 587, "ssl": 465}, refused=MailNotConfigured)
        return cls(host, port, security, environ.get("SSJ_SMTP_USER", ""), environ.get("SSJ_SMTP_PASSWORD", ""))

    def connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                   context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if self.user:
            server.login(self.user, self.password)
        return server


_WHY = (  # the most specific first: what an office's IT person can act on, with the system's own words kept
    (ConnectionRefusedError, "连接被拒绝，服务器未运行或端口不对"),
    (ConnectionResetError, "连接被服务器重置"),
    (TimeoutError, "连接超时"),
    (socket.gaierror, "无法解析服务器地址"),
    (ssl.SSLCertVerificationError, "服务器证书验证失败"),
    (ssl.SSLError, "加密连接（TLS）建立失败"),
    (smtplib.SMTPAuthenticationError, "登录被拒绝，请检查 SSJ_SMTP_USER 和 SSJ_SMTP_PASSWORD"),
    (smtplib.SMTPNotSupportedError, "服务器不支持所需的功能（如 STARTTLS 或登录），请检查 SSJ_SMTP_SECURITY"),
    (smtplib.SMTPServerDisconnected, "连接被服务器关闭"),
    (smtplib.SMTPConnectError, "服务器拒绝建立会话"),
    (smtplib.SMTPException, "邮件服务器返回错误"),
    (OSError, "网络错误"),
)


def reason(exc: BaseException) -> str:
    """Why a connection failed, in Chinese, with the system's own words in brackets (never a bare class name):
    ``连接被拒绝，服务器未运行或端口不对（Connection refused）``."""
    said = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip()
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        said = f"{exc.smtp_code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"
    what = next((text for kind, text in _WHY if isinstance(exc, kind)), "未知错误")
    return f"{what}（{said[:300]}）" if said else what


class Unreachable(Exception):
    """No session could be opened: nothing was tried."""


class Temporary(Exception):
    """4xx, or the connection lost before the message was handed over: not delivered, try later."""


class Refused(Exception):
    """A 5xx answer to this message (its recipient, sender or content): the server's reply is the message."""


class Unclear(Exception):
    """The connection was lost after the message's data was sent: it may have been delivered."""


def _wire(message: EmailMessage | bytes) -> bytes:
    """The DATA payload as ``smtplib`` would send it: CRLF lines, leading dots doubled, the final dot
    (``message``: the message, or its CRLF bytes as ``files.email.message_bytes`` writes them)."""
    if isinstance(message, EmailMessage):
        buffer = io.BytesIO()
        BytesGenerator(buffer).flatten(message, linesep="\r\n")
        message = buffer.getvalue()
    data = _DOTS.sub(b"..", message)
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


_DOTS = re.compile(rb"(?m)^\.")
_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def _address(address: str) -> str:
    """An envelope address as ``smtplib`` writes it (``<a@b>``), without its parser for the plain ones."""
    return f"<{address}>" if _PLAIN.fullmatch(address) else smtplib.quoteaddr(address)


class SmtpSession:
    """Opened on the first message, re-opened after a disconnect; ``close`` when the batch is done."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.server: smtplib.SMTP | None = None

    def deliver(self, message: EmailMessage | bytes, sender: str, recipient: str, copies: Sequence[str] = (),
                before_accept: Callable[[], None] | None = None) -> None:
        """Hand ``message`` over, or raise what happened (``Unreachable``, ``Temporary``, ``Refused``, ``Unclear``).
        ``before_accept`` runs just before the final dot, the moment the server takes the message (the sender
        waits there for the previous message's mark).

        The message stands or falls with its recipient: an address in copy the server refuses is left out."""
        if self.server is None:
            try:
                self.server = self.config.connect()
                # The final dot goes in a write of its own (``before_accept``): unbatched, it must not wait for
                # the acknowledgement of the data before it (Nagle's algorithm and a delayed ACK: 40 ms a message).
                self.server.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, smtplib.SMTPException) as exc:
                raise Unreachable(f"无法连接邮件服务器 {self.config.host}:{self.config.port}：{reason(exc)}") from exc
        server = self.server
        try:
            server.ehlo_or_helo_if_needed()
            if server.has_extn("pipelining"):
                self._envelope_pipelined(server, sender, recipient, copies)
            else:
                self._expect(server.mail(sender), (250,), sender=sender)
                self._expect(server.rcpt(recipient), (250, 251))
                for copy in copies:
                    server.rcpt(copy)
                self._expect(server.docmd("DATA"), (354,))
        except LOST as exc:
            self.close()
            raise Temporary(f"与邮件服务器的连接中断，邮件未送出：{reason(exc)}") from exc
        except smtplib.SMTPException as exc:
            self.close()
            raise Temporary(f"邮件服务器会话出错，邮件未送出：{reason(exc)}") from exc
        wire = _wire(message)
        try:
            server.send(wire[:-3])
        except LOST as exc:
            raise self._unclear(exc) from exc
        if before_accept:
            try:
                before_accept()
            except BaseException:
                self.abort()  # the final dot never went: the server discards the message
                raise
        try:
            server.send(wire[-3:])
            answer = server.getreply()
        except LOST as exc:
            raise self._unclear(exc) from exc
        self._expect(answer, (250,))

    def _envelope_pipelined(self, server: smtplib.SMTP, sender: str, recipient: str, copies: Sequence[str]) -> None:
        """MAIL, RCPT and DATA in one write, their answers read in order (RFC 2920, for a server that offers
        PIPELINING): one round trip instead of three. Each answer means what it means unpipelined; where the
        server took DATA although the sender or the recipient was refused (a copy was taken), the connection is
        dropped, so nothing goes to the copies alone."""
        commands = [f"MAIL FROM:{_address(sender)}", f"RCPT TO:{_address(recipient)}",
                    *(f"RCPT TO:{_address(copy)}" for copy in copies), "DATA"]
        server.send("\r\n".join(commands) + "\r\n")
        mail, rcpt, *_, data = [server.getreply() for _ in commands]
        refused = next((answer for answer in (mail, rcpt) if answer[0] not in (250, 251)), None)
        if refused is not None and data[0] == 354:
            self.abort()
            raise self._refusal(refused, sender if refused is mail else "")
        self._expect(mail, (250,), sender=sender)
        self._expect(rcpt, (250, 251))
        self._expect(data, (354,))

    def _unclear(self, exc: BaseException) -> Unclear:
        self.close()
        return Unclear(f"邮件内容已发出后与邮件服务器的连接中断（{reason(exc)}），不确定是否送达")

    def _expect(self, answer: tuple[int, bytes], ok: tuple[int, ...], sender: str = "") -> None:
        code, _ = answer
        if code in ok:
            return
        if code == 421 or code == -1:
            self.close()
        else:
            try:
                self.server.rset()
            except (*LOST, smtplib.SMTPException):
                self.close()
        raise self._refusal(answer, sender)

    @staticmethod
    def _refusal(answer: tuple[int, bytes], sender: str = "") -> Exception:
        """What a refusing answer means for the message (``sender``: it answered the MAIL FROM of ``sender``)."""
        code, reply = answer
        said = f"{code} {reply.decode('utf-8', 'replace')}".strip()
        if 500 <= code < 600 and (sender or code == 530):
            return Temporary(f"邮件服务器不接受发件人{sender and f' {sender} '}或要求登录（请检查 SSJ_SMTP_USER、SSJ_SMTP_PASSWORD"
                             f" 和抽查任务的发件地址），改正后自动发送：{said}")
        if 500 <= code < 600:
            return Refused(said)
        return Temporary(said)

    def abort(self) -> None:
        """Drop the connection without QUIT: in the middle of a message's data, a QUIT would be read as one more
        line of it (and its answer waited for until the timeout); the server discards an unfinished message."""
        server, self.server = self.server, None
        if server is not None:
            server.close()

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            try:
                server.quit()
            except (*LOST, smtplib.SMTPException):
                server.close()
