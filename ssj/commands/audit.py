"""``ssj audit verify``, ``ssj machine diagram``, ``ssj demo``: the trail, the machine's picture, the replay."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click

from ssj.commands import Call, cli, command, emit_json, err, group, out, read


audit_group = group(cli, "audit", "审计记录（哈希链）。")


@command(audit_group, "verify", json_output=True,
         help="逐条核对每条审计链（每个抽查任务一条，名录导入一条）：发现被修改、删除、插入或调换次序的记录时指出第一条并返回 1。")
def audit_verify_cmd(call: Call) -> None:
    from workflow.services.audit_trail import verify_chains

    reports = read(call, None, verify_chains)
    broken = [r for r in reports if not r.ok]
    if call.as_json:
        emit_json({"ok": not broken, "chains": [{"chain": r.chain, "rows": r.rows, "ok": r.ok, "head": r.head_hash,
                                                 "problem": r.problem} for r in reports]})
    else:
        if not reports:
            out("没有审计记录。")
        for r in reports:
            out(f"{r.chain}：{r.rows} 条，完整，链头 {r.head_hash[:16]}" if r.ok else r.problem)
        if reports and not broken:
            out(f"全部 {len(reports)} 条审计链完整，共 {sum(r.rows for r in reports)} 条记录。")
    if broken:
        err(f"{len(broken)} 条审计链被改动。")
        raise click.exceptions.Exit(1)


machine_group = group(cli, "machine", "检查状态机。")


@command(machine_group, "diagram", help="把检查状态机写成 mermaid 图；装有 Graphviz（dot）时另写 PNG。不访问数据库。")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（如 machine.mmd）")
def machine_diagram_cmd(call: Call, out_file: str) -> None:
    from workflow.files.atomic import write_text_atomically
    from workflow.machine import graphviz_dot, mermaid

    path = write_text_atomically(out_file, mermaid())
    out(f"已写入 {path}")
    dot = shutil.which("dot")
    if dot is None:
        err("未安装 Graphviz（dot），只写出 mermaid 图。")
        return
    png = path.with_suffix(".png")
    subprocess.run([dot, "-Tpng", "-o", str(png)], input=graphviz_dot().encode("utf-8"), check=True)
    out(f"已写入 {png}")


@command(cli, "demo", help="演示：在 --out 下的新数据库中，用示例辖区运行鹿泉区 2019 年下半年联合抽查。")
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False),
              help="输出目录")
@click.option("--enterprises", "n", type=click.IntRange(100, 2_000_000), default=30_000, show_default=True,
              help="示例辖区的企业数量")
@click.option("--seed", type=int, default=2019, show_default=True, help="随机种子")
def demo_cmd(call: Call, out_dir: str, n: int, seed: int) -> None:
    from ssj.demo import run_demo

    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")  # the demo prints its own account
    run_demo(Path(out_dir), enterprises=n, seed=seed, echo=out)
