"""``ssj publish`` and ``ssj report …``: what the office makes public and what it reads."""

from __future__ import annotations

from pathlib import Path

import click

from ssj.commands import CODE, Call, act, cli, command, err, group, lazy, out, read


@command(cli, "publish", changes=True,
         help="公示（领导小组办公室的行为）：把已回填的企业改为已公示，写出国家企业信用信息公示系统交换文件（JSONL 和 CSV）和检查结果公告（HTML）。")
@CODE
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def publish_cmd(call: Call, code: str, out_dir: str) -> None:
    from workflow.services.publication import publish

    report = act(call, code, "publish", lambda uow: publish(uow, Path(out_dir)))
    out(f"本次公示 {report.moved.moved} 户，累计已公示 {report.published} 户。")
    for path in report.files:
        out(f"已写入 {path}")
    for uscc, lines in report.moved.refused:
        err(f"企业 {uscc} 未能公示：{'；'.join(line.strip() for line in lines[1:])}")


report_group = group(cli, "report", "报表：抽查情况统计表等。")


@command(report_group, "stats", help="抽查情况统计表（按附件的栏目、口径和顺序；合计一行、每个部门一行）；XLSX 另有企业检查结果工作表。")
@CODE
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx 或 .csv）")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="格式（默认按文件扩展名，否则 xlsx）")
def report_stats_cmd(call: Call, code: str, out_file: str, fmt: str | None) -> None:
    from workflow.services.reports import write_statistics
    from workflow.statistics import COLUMNS

    fmt = fmt or ("csv" if out_file.lower().endswith(".csv") else "xlsx")
    rows = read(call, code, lambda uow: write_statistics(uow, Path(out_file), fmt=fmt))
    total = dict(zip((label for _, label in COLUMNS), rows[0].cells()))
    out(f"已写入 {out_file}：" + "，".join(f"{k} {v}" for k, v in total.items()))


def _report_command(name: str, label: str, write) -> None:
    @command(report_group, name, help=f"{label}（XLSX，含 Excel 原生图表）。")
    @CODE
    @click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx）")
    def report_cmd(call: Call, code: str, out_file: str) -> None:
        result = read(call, code, lambda uow: write(uow, Path(out_file)))
        out(f"已写入 {out_file}" + (f"：逾期事项 {len(result)} 项" if name == "overdue" else "") + "。")


for _name, _label, _module, _function in (
        ("overdue", "逾期部门情况表：各部门逾期事项、涉及企业、逾期工作日和责任人", "workflow.services.overdue",
         "write_overdue_report"),
        ("confirmation", "比对确认情况表：各部门的比对确认结果，以及检查人员及其手机", "workflow.services.reports",
         "write_confirmation_report"),
        ("summary", "工作总结：各项数字、进度、各部门总结和方案检查结果", "workflow.services.reports",
         "write_summary_report")):
    _report_command(_name, _label, lazy(_module, _function))
