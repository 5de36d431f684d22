"""``ssj staff add|list``: the office's staff directory, kept by the database's administrator."""

from __future__ import annotations

import click

from ssj.commands import Call, cli, command, emit_json, group, os_account, out


staff_group = group(cli, "staff", "办公室人员名录：谁可以导入名录、创建抽查任务、抽取、撤出、公示、重新计算期限。")


@command(staff_group, "add", changes=True, person=False,
         help="添加一名办公室工作人员（只有初始化数据库的管理员操作系统账户可以添加；记入名录审计链）。")
@click.argument("email", metavar="电子邮箱")
@click.option("--name", required=True, metavar="姓名", help="姓名")
@click.option("--os-account", "account", required=True, metavar="账户",
              help="此人运行 ssj 所用的操作系统账户（登录名）")
def staff_add_cmd(call: Call, email: str, name: str, account: str) -> None:
    from workflow.services.identities import add_staff

    add_staff(call.uow(), email, name, account, by_account=os_account())
    out(f"已添加办公室工作人员 {name}（{email.strip()}，操作系统账户“{account.strip()}”）。")


@command(staff_group, "list", json_output=True, help="列出办公室工作人员。")
def staff_list_cmd(call: Call) -> None:
    from workflow.services.identities import staff_members

    members = staff_members(call.uow(changes=False))
    if call.as_json:
        emit_json([{"email": m.email, "name": m.name, "os_account": m.os_account, "added_at": m.added_at.isoformat(),
                    "added_by": m.added_by} for m in members])
        return
    if not members:
        out("办公室人员名录为空（由管理员用 ssj staff add 添加）。")
    for m in members:
        out(f"{m.email}  {m.name}  操作系统账户 {m.os_account or '—'}  添加于 {m.added_at:%Y-%m-%d %H:%M}（{m.added_by}）")
