"""The publication files: the exchange file (JSON Lines and CSV, values verbatim) and the notice page."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from workflow.files.atomic import atomic_file, write_text_atomically
from workflow.files.spreadsheet import csv_safe
from workflow.publication import EXCHANGE_KEYS


def write_exchange(records: list[dict[str, str]], jsonl: Path, csv_path: Path) -> None:
    """JSONL for machines: values exactly as recorded. CSV, which people open in Excel: formula-like text escaped."""
    with atomic_file(jsonl, "w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    with atomic_file(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=EXCHANGE_KEYS)
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in record.items()} for record in records)


_STYLE = """
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2cm auto; max-width: 18cm; }
h1 { font-size: 20pt; text-align: center; margin-bottom: 1em; }
p { text-indent: 2em; line-height: 1.8; font-size: 12pt; }
table { border-collapse: collapse; width: 100%; font-size: 10.5pt; }
th, td { border: 1px solid #000; padding: 4px 6px; vertical-align: top; }
th { background: #eee; }
.sign { text-align: right; margin-top: 2em; text-indent: 0; }
.anchor { font-size: 9pt; text-indent: 0; margin-top: 3em; word-break: break-all; }
@page { size: A4; margin: 2cm; }
@media print { body { margin: 0; max-width: none; } th { background: none; } tr { page-break-inside: avoid; } }
"""


ANCHOR_INTRO = ("本次公示时审计记录的链头如下。任何人可留存此行，日后用 ssj audit verify --anchors 本文件 "
                "核对此前的审计记录（抽取、比对确认、检查组、核查和检查结果）未被改写：")


def write_anchor(plan, now, anchor: str, path: Path) -> None:
    """The head file published with the results: the campaign, the instant, the anchor line."""
    write_text_atomically(path, f"{plan.name}（{plan.code}）检查结果公示\n公示时间：{now.astimezone(plan.tz):%Y-%m-%d %H:%M}"
                                f"（北京时间）\n{ANCHOR_INTRO}\n{anchor}\n", encoding="utf-8")


def write_notice(title: str, intro: list[str], records: list[dict[str, str]], office: str, date_line: str,
                 path: Path, *, anchor: str | None = None) -> None:
    """A static, printable Chinese page: the title, the introduction, one row per enterprise, the signature, and
    the audit chain head at publication (``anchor``) in small print."""
    e = html.escape
    rows = "\n".join(
        f"<tr><td>{n}</td><td>{e(r['企业名称'])}</td><td>{e(r['统一社会信用代码'])}</td><td>{e(r['检查机关'])}</td>"
        f"<td>{e(r['检查完成日期'])}</td><td>{e(r['检查结果'])}</td><td>{e(r['备注'])}</td></tr>"
        for n, r in enumerate(records, start=1))
    paragraphs = "\n".join(f"<p>{e(text)}</p>" for text in intro)
    write_text_atomically(path, f"""<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{e(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{e(title)}</h1>
{paragraphs}
<table>
<thead><tr><th>序号</th><th>企业名称</th><th>统一社会信用代码</th><th>检查机关</th><th>检查完成日期</th><th>检查结果</th><th>备注</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p class="sign">{e(office)}<br>{e(date_line)}</p>
{f'<p class="anchor">{e(ANCHOR_INTRO)}<br><code>{e(anchor)}</code></p>' if anchor else ""}
</body>
</html>
""", encoding="utf-8")
