"""The token a file we send carries, so that a file coming back by email can be told to be ours and whose it is.

A department's 比对确认 list and an enterprise's 一企一表 hold, in a hidden sheet, the
campaign, the file's kind, whose file it is (the department's code, the enterprise's
USCC) and an HMAC over the three, keyed by the database's secret (created at ``ssj
init``). Anyone may read the values; nobody without the secret can make a token for
another department or enterprise, and a token edited by hand no longer matches.
The token names a file, not its content: the content is checked by the import rules.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

VERSION = "ssj-token-v1"
CONFIRM_LIST = "confirm_list"  # a department's 比对确认 list (party: the department's code)
FORM = "form"  # an enterprise's 一企一表 (party: its USCC; either officer of its team may return it)
KINDS = (CONFIRM_LIST, FORM)


@dataclass(frozen=True)
class FileToken:
    campaign: str
    kind: str
    party: str
    token: str


def sign(secret: str, campaign: str, kind: str, party: str) -> FileToken:
    """The token of (campaign, kind, party) under ``secret`` (hex)."""
    message = "\x1f".join((VERSION, campaign, kind, party)).encode("utf-8")
    digest = hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()
    return FileToken(campaign, kind, party, f"v1-{digest[:40]}")


def genuine(secret: str, found: FileToken) -> bool:
    """Whether ``found`` (read from a file) was made with ``secret`` for exactly its campaign, kind and party."""
    if found.kind not in KINDS:
        return False
    return hmac.compare_digest(sign(secret, found.campaign, found.kind, found.party).token, found.token)
