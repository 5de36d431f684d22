"""Who acts on this database: its kind (simulation or real), its administrator, the office's staff directory.

``ssj init`` fixes the kind once (``--simulation`` or not) and records the
operating-system account that ran it as the administrator; only that account
adds office staff (``ssj staff add``), each mapped to the operating-system
account that runs ``ssj`` as that person. Only office staff import directories,
create campaigns and reload calendars (a campaign's draws, withdrawals and
publication are its ``office_staff``'s, every one of them staff).
"""

from __future__ import annotations

from workflow.audit import DIRECTORY_CHAIN, Entry
from workflow.email_address import address_problem
from workflow.errors import UserError
from workflow.identity import SYSTEM


def is_staff(uow, who: str) -> bool:
    return uow.staff.member(who) is not None


def require_staff(uow, doing: str) -> None:
    """Only a person of the office's staff directory may ``doing`` (inside the caller's transaction)."""
    if not is_staff(uow, uow.actor):
        raise UserError(f"只有领导小组办公室的工作人员可以{doing}：“{uow.actor}”不在办公室人员名录中"
                        "（由初始化数据库的管理员用 ssj staff add 添加）")


def not_staff(uow, emails) -> list[str]:
    """Those of ``emails`` the staff directory does not hold (a campaign's ``office_staff`` must all be staff)."""
    return [e for e in emails if not is_staff(uow, e)]


def add_staff(uow, email: str, name: str, os_account: str, *, by_account: str) -> None:
    """A person of the office, run by ``os_account``; only the administrator's account (``by_account``) may add one.

    Recorded in the directories' audit chain."""
    email, name, os_account = email.strip(), name.strip(), os_account.strip()
    problem = address_problem(email)
    if problem:
        raise UserError(f"“{email}”不是有效的电子邮箱地址：{problem}")
    if not name:
        raise UserError("--name 不能为空")
    if not os_account or any(c.isspace() or c in ":/" for c in os_account):
        raise UserError(f"--os-account “{os_account}”不是操作系统账户名")
    if email.lower() == SYSTEM:
        raise UserError(f"“{email}”是系统自身使用的身份")
    with uow:
        administrator = uow.settings.administrator()
        if by_account != administrator:
            raise UserError(f"只有数据库管理员（初始化数据库的操作系统账户“{administrator or '未记录'}”）可以添加办公室人员；"
                            f"当前操作系统账户是“{by_account}”")
        if uow.staff.member(email) is not None:
            raise UserError(f"“{email}”已在办公室人员名录中")
        holder = uow.staff.by_os_account(os_account)
        if holder is not None:
            raise UserError(f"操作系统账户“{os_account}”已对应办公室人员“{holder}”")
        uow.staff.add(email, name, os_account, now=uow.now, by=by_account)
        uow.audit.append(DIRECTORY_CHAIN, [Entry("staff_added", uow.actor, uow.now, None, None, None, None,
                                                 {"email": email, "name": name, "os_account": os_account,
                                                  "administrator": by_account})])


def staff_members(uow) -> list:
    with uow:
        return uow.staff.members()
