"""``ssj audit verify``, ``ssj machine diagram``, ``ssj demo``: the trail, the machine's picture, the replay."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click

from ssj.commands import Call, cli, command, emit_json, err, group, out, read


audit_group = group(cli, "audit", "审计记录（哈希链）：核对、锚定。")
SHOWN_DIFFERENCES = 100  # per campaign; the rest are counted


@command(audit_group, "verify", json_output=True,
         help="逐条核对每条审计链（每个抽查任务一条，名录导入一条）：被修改、删除、插入或调换次序的记录，写入时刻倒退，"
              "以及 --anchors 文件中已锚定（公布）的链头是否仍在链中；再按审计记录重放每个抽查任务，与数据表"
              "（检查状态、比对确认、检查组、实地核查、检查结果、公示）逐户核对。有任何不符时指出并返回 1。")
@click.option("--anchors", "anchor_files", multiple=True, type=click.Path(dir_okay=False), metavar="文件",
              help="含锚定行的文本文件（ssj audit anchor 的输出、保存的每日报告或【待公布】邮件、公示文件），可多次指定")
def audit_verify_cmd(call: Call, anchor_files: tuple[str, ...]) -> None:
    from workflow.files.anchors import read_anchors
    from workflow.services.audit_trail import verify_chains, verify_tables

    anchors = [a for path in anchor_files for a in read_anchors(path)]  # a file naming no anchor: exit 2
    reports = read(call, None, lambda uow: verify_chains(uow, anchors))
    tables = read(call, None, verify_tables)
    broken = [r for r in reports if not r.ok]
    differing = [t for t in tables if not t.ok]
    if call.as_json:
        emit_json({"ok": not broken and not differing, "anchors": len(anchors),
                   "chains": [{"chain": r.chain, "rows": r.rows, "ok": r.ok, "head": r.head_hash,
                               "problem": r.problem, "problems": list(r.problems)} for r in reports],
                   "tables": [{"campaign": t.code, "enterprises": t.enterprises, "ok": t.ok,
                               "differences": t.differences, "counts": t.counts} for t in tables]})
    else:
        if not reports:
            out("没有审计记录。")
        for r in reports:
            if r.ok:
                out(f"{r.chain}：{r.rows} 条，完整，链头 {r.head_hash}")
            for problem in r.problems:
                out(problem)
        if anchors:
            wrong = sum(1 for r in reports for p in r.problems if "锚定" in p)
            out(f"锚定：核对 {len(anchors)} 个已公布的链头，" + (f"{wrong} 个不符。" if wrong else "均仍在链中。"))
        for t in tables:
            if t.ok:
                out(f"抽查任务 {t.code}：{t.enterprises} 户企业的数据表与审计记录一致，统计数字与数据表一致")
                continue
            for lines, what in ((t.differences, "数据表与审计记录不符"), (t.counts, "统计数字与按数据表重算不符")):
                if lines:
                    out(f"抽查任务 {t.code}：{what} {len(lines)} 处：")
                for line in lines[:SHOWN_DIFFERENCES]:
                    out(f"  {line}")
                if len(lines) > SHOWN_DIFFERENCES:
                    out(f"  …… 另有 {len(lines) - SHOWN_DIFFERENCES} 处（--json 列出全部）")
        if reports and not broken and not differing:
            out(f"全部 {len(reports)} 条审计链完整，共 {sum(r.rows for r in reports)} 条记录；"
                "数据表与审计记录一致，统计数字与数据表一致。")
    if broken or differing:
        parts = ([f"{len(broken)} 条审计链被改动"] if broken else []) + (
            [f"{sum(1 for t in differing if t.differences)} 个抽查任务的数据表与审计记录不符"]
            if any(t.differences for t in differing) else []) + (
            [f"{sum(1 for t in differing if t.counts)} 个抽查任务的统计数字与数据表不符"]
            if any(t.counts for t in differing) else [])
        err("；".join(parts) + "。")
        raise click.exceptions.Exit(1)


@command(audit_group, "anchor", json_output=True,
         help="列出每条审计链的链头（链、序号、完整哈希、时刻，北京时间）：公布或交存后，"
              "可用 ssj audit verify --anchors 文件 证明此前的记录此后未被改写。")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), metavar="文件", help="同时写入此文件")
def audit_anchor_cmd(call: Call, out_file: str | None) -> None:
    from calendars import BEIJING
    from workflow.services.audit_trail import chain_heads, head_line

    heads = read(call, None, chain_heads)
    lines = [head_line(h) for h in heads]
    if out_file:
        from workflow.files.atomic import write_text_atomically

        stamp = f"{call.now.astimezone(BEIJING):%Y-%m-%d %H:%M}"
        write_text_atomically(out_file, f"审计链头（{stamp} 导出，北京时间）\n" + "".join(f"{line}\n" for line in lines))
    if call.as_json:
        emit_json({"heads": [{"chain": h.chain, "seq": h.seq, "hash": h.hash,
                              "at": h.at.isoformat() if h.at else None,
                              "written_at": h.written_at.isoformat() if h.written_at else None,
                              "line": line} for h, line in zip(heads, lines)]})
    else:
        if not lines:
            out("没有审计记录。")
        for line in lines:
            out(line)
        if out_file:
            err(f"已写入 {out_file}")


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
