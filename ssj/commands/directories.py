"""``ssj init``, ``ssj import …``, ``ssj example-data``: the database and the four directories."""

from __future__ import annotations

from pathlib import Path

import click

from ssj.commands import Call, cli, command, emit_json, err, group, out


@command(cli, "init", changes=True, person=False)
@click.option("--simulation", is_flag=True,
              help="模拟数据库（演示、测试、培训）：变更可用 --now 指定时间、--user 指定操作人，状态和报表注明“模拟”。"
                   "类型在第一次初始化时确定，之后不能更改")
def init_cmd(call: Call, simulation: bool) -> None:
    """创建数据库，或将其升级到当前版本；第一次初始化时记录数据库类型（正式或模拟）和管理员（当前操作系统账户）。"""
    from datetime import datetime

    from calendars import BEIJING
    from ssj.commands import os_account
    from workflow.persistence.database import make_engine, protect_sqlite_file
    from workflow.persistence.identities import initialise

    engine = make_engine(call.url)
    try:
        before, after = initialise(engine, simulation=simulation, os_account=os_account(), now=datetime.now(BEIJING))
    finally:
        engine.dispose()
    protect_sqlite_file(call.url)
    kind = "模拟数据库" if simulation else "正式数据库"
    if before == after:
        out(f"数据库已是最新版本（{after}，{kind}）。")
    elif before is None:
        out(f"数据库已创建（版本 {after}，{kind}；管理员：操作系统账户“{os_account()}”）。")
    else:
        out(f"数据库已从版本 {before} 升级到 {after}（{kind}）。")


import_group = group(cli, "import", "导入名录：部门、执法检查人员、企业、抽查事项清单（CSV 或 XLSX）。")


def _import_command(kind: str, label: str) -> None:
    @command(import_group, kind, changes=True, json_output=True, help=f"导入{label}（.csv 或 .xlsx 的第一个工作表）。")
    @click.argument("file", metavar="文件")
    @click.option("--full", is_flag=True, help="此文件是完整导出：文件中没有的条目标记为“不在最新名录”，不再参与抽取。")
    def run_import(call: Call, file: str, full: bool) -> None:
        from workflow.services.directory_import import import_directory

        report = import_directory(call.uow(), kind, file, full=full)
        for warning in report.warnings:
            err(warning)
        if call.as_json:
            emit_json({"kind": kind, "file": file, "rows": report.rows, "inserted": report.inserted,
                       "updated": report.updated, "marked_not_latest": report.marked_not_latest})
            return
        line = f"已导入{label}：{file} 共 {report.rows} 行，新增 {report.inserted}，更新 {report.updated}"
        if full:
            line += f"，标记“不在最新名录” {report.marked_not_latest}"
        out(line + "。")


for _kind, _label in (("departments", "部门名录"), ("officers", "执法检查人员名录"),
                      ("enterprises", "抽查对象名录（企业）"), ("items", "随机抽查事项清单")):
    _import_command(_kind, _label)


@command(cli, "example-data",
         help="生成示例辖区（鹿泉区）的四个名录文件：departments.csv、officers.csv、items.csv、enterprises.csv。")
@click.option("--enterprises", "n", type=click.IntRange(1, 10_000_000), default=30_000, show_default=True,
              help="企业数量")
@click.option("--seed", type=int, default=2019, show_default=True, help="随机种子（同一种子生成相同的数据）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def example_data_cmd(call: Call, n: int, seed: int, out_dir: str) -> None:
    from ssj.example_district import write_example_data

    for path in write_example_data(Path(out_dir), n, seed).values():
        out(f"已写入 {path}")
