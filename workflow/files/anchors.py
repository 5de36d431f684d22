"""Anchors read back from any text file: an anchor file, a saved mail (.eml, however encoded), the public notice.

The file is searched as it is; a saved mail is also searched part by part after
its transfer encoding is undone (a mail client saves base64 or quoted-printable),
and a web page after its tags are removed and its entities decoded.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from pathlib import Path

from workflow.audit import Anchor, parse_anchors
from workflow.errors import UserError

_TAG = re.compile(r"<[^>]*>")


def _texts(raw: bytes) -> list[str]:
    texts = []
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            texts.append(raw.decode(encoding))
            break
        except UnicodeDecodeError:
            continue
    else:
        texts.append(raw.decode("utf-8", errors="replace"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if message.get("Subject") is not None or message.get("Content-Type") is not None:
        for part in message.walk():
            if part.get_content_maintype() == "text":
                try:
                    texts.append(part.get_content())
                except (LookupError, UnicodeError):
                    continue
    texts += [html.unescape(_TAG.sub(" ", t)) for t in list(texts) if "<" in t]
    return texts


def read_anchors(path: str | Path) -> list[Anchor]:
    """Every anchor line in the file, each once; refused (in Chinese, naming the file) when it cannot be read or
    names none."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: 锚定文件不存在") from None
    except IsADirectoryError:
        raise UserError(f"{path}: 是目录，应为含锚定行的文件") from None
    except OSError as exc:
        raise UserError(f"{path}: 无法读取锚定文件（{exc.strerror or exc}）") from None
    found = dict.fromkeys(a for text in _texts(raw) for a in parse_anchors(text))
    if not found:
        raise UserError(f"{path}: 文件中没有审计链锚定行（形如“审计链 campaign:任务编号 第 N 条 <64 位十六进制哈希>”，"
                        "由 ssj audit anchor 生成，也见于每日逾期报告邮件、【待公布】邮件和公示文件）")
    return list(found)
