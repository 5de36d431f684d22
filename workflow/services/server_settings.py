"""How a mail server's connection is named in the environment (``SSJ_SMTP_*``, ``SSJ_IMAP_*``): read once, the same way.

A bad security or port value is refused naming the variable; a missing port follows the security. Whether a
mailbox is named at all (``SSJ_IMAP_HOST`` or ``SSJ_MAILDIR``) is read here too.
"""

from __future__ import annotations

from collections.abc import Mapping

SECURITIES = ("none", "starttls", "ssl")


def security_and_port(environ: Mapping[str, str], prefix: str, *, default_security: str, ports: Mapping[str, int],
                      refused: type[Exception]) -> tuple[str, int]:
    """(``<prefix>_SECURITY``, ``<prefix>_PORT``); ``ports``: the default port of each security."""
    security = environ.get(f"{prefix}_SECURITY", "").strip().lower() or default_security
    if security not in SECURITIES:
        raise refused(f"环境变量 {prefix}_SECURITY 的值“{security}”无效：应为 none、starttls 或 ssl")
    port = environ.get(f"{prefix}_PORT", "").strip() or str(ports[security])
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise refused(f"环境变量 {prefix}_PORT 的值“{port}”无效：应为 1–65535 的端口号")
    return security, int(port)


def mailbox_named(environ: Mapping[str, str]) -> bool:
    """Whether a mailbox is named at all (``SSJ_IMAP_HOST`` or ``SSJ_MAILDIR``; ``services.imap.open_mailbox``
    judges the rest): here, so that a tick without one loads none of the mail reader (imaplib and its kin)."""
    return bool(environ.get("SSJ_IMAP_HOST", "").strip() or environ.get("SSJ_MAILDIR", "").strip())
