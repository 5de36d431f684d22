"""The departments' 比对确认 answers as a file (FORMATS.md "Confirmation answers").

The list the product sends each department starts with these columns, so the
returned file imports as is. Plain rules on one row; whether the campaign,
department and enterprise fit together is the service's question.
"""

from __future__ import annotations

from typing import Any

from workflow.directory import Column, Directory, choice, code, text, uscc

YES, NO = "是", "否"


def _reason_when_declined(record: dict[str, Any]) -> tuple[str, str] | None:
    if record.get("inspect") == NO and not (record.get("reason") or "").strip():
        return "reason", "必填（是否检查为“否”时须填写不检查理由）"
    return None


CONFIRMATIONS = Directory("confirmations", "比对确认", "uscc", columns=(
    Column("抽查任务编号", "campaign", code, required=True),
    Column("部门代码", "department", code, required=True),
    Column("统一社会信用代码", "uscc", uscc, required=True),
    Column("是否检查", "inspect", choice((YES, NO)), required=True),
    Column("不检查理由", "reason", text(500), multiline=True),
), row_rules=(_reason_when_declined,), informational=("企业名称", "住所", "检查事项"))  # the dispatch list's others
