"""What an email address must look like before the product will ever mail it.

RFC 5321's ordinary form, nothing exotic: a dot-atom before the ``@`` (letters,
digits and ``!#$%&'*+-/=?^_`{|}~``, dots only between them) and a domain of at
least two ASCII labels (letters, digits and hyphens, no hyphen at either end; a
Chinese domain is written in its ``xn--`` form). A quoted local part, an
address literal ``[1.2.3.4]`` or a non-ASCII address is refused: an office's
mail server may not take them, and a typo should fail at import, not at sending.
"""

from __future__ import annotations

import re

_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")


def _local_part_problem(local: str) -> str | None:
    if not local:
        return "@ 前没有内容"
    if len(local) > 64:
        return f"@ 前的部分过长（{len(local)} 个字符，最多 64 个）"
    if local.startswith(".") or local.endswith("."):
        return "@ 前的部分不能以点开头或结尾"
    if ".." in local:
        return "@ 前的部分不能有连续的点"
    if not all(_ATOM.fullmatch(atom) for atom in local.split(".")):
        return "@ 前的部分只能有英文字母、数字和 !#$%&'*+-/=?^_`{|}~ 等字符"
    return None


def _domain_problem(domain: str) -> str | None:
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        return "@ 后应为域名，如 example.cn（至少两段，以点分隔，不能有空段）"
    if len(domain) > 253:
        return f"域名过长（{len(domain)} 个字符，最多 253 个）"
    for label in labels:
        if not _LABEL.fullmatch(label):
            return (f"域名中的“{label}”不合规（只能有英文字母、数字和连字符，连字符不能在首尾，每段最多 63 个字符；"
                    "中文域名请写成 xn-- 形式）")
    if labels[-1].isdigit():
        return "域名的最后一段不能全是数字"
    return None


def address_problem(address: str) -> str | None:
    """Why ``address`` is not an email address the product accepts (Chinese), or None when it is one."""
    if address.count("@") != 1:
        return "应有且仅有一个 @"
    if len(address) > 254:
        return f"地址过长（{len(address)} 个字符，最多 254 个）"
    local, domain = address.split("@")
    return _local_part_problem(local) or _domain_problem(domain)
