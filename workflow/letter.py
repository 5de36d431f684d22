"""How a message to an official opens and closes: a greeting by name and role, the office's signature block.

Officials read the system's mail as mail from the office, so it is written as the
office writes: "区税务局管理员王管理同志：您好！", and at the end the office's name,
the campaign's contact person, phone, address and mailbox, and the document the work
rests on (a document number is written without 书名号: 根据石鹿双随机办〔2019〕11号).
"""

from __future__ import annotations


def greeting(name: str | None, role: str = "", organisation: str = "") -> str:
    """``区税务局管理员王管理同志：您好！``; without a name, ``区税务局管理员：您好！``."""
    who = f"{organisation}{role}"
    if name:
        return f"{who}{name}同志：您好！"
    return f"{who or '各位同志'}：您好！"


def group_greeting() -> str:
    """A message to several people at once."""
    return "各位同志："


def signature(plan) -> str:
    """The office's signature block (``plan``: a CampaignPlan), a line per fact the plan holds."""
    contact = plan.contact
    lines = [plan.office]
    who = "　".join(part for part in (f"联系人：{contact.name}" if contact.name else "",
                                      f"联系电话：{contact.phone}" if contact.phone else "") if part)
    where = "　".join(part for part in (f"地址：{contact.address}" if contact.address else "",
                                        f"邮箱：{contact.email or plan.email_office}") if part)
    lines += [line for line in (who, where) if line]
    lines.append(f"（根据{plan.document_no}。本邮件由双随机抽查系统代发，回复本邮件即送达领导小组办公室。）")
    return "\n".join(lines)
