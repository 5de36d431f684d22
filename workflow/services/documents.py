"""Files departments send the office by a deadline: the stamped confirmation report and the summary.

Each is a task per department, opened at the public draw; receiving the file
closes it (late if it is), keeps the file exactly as sent, and is audited.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from workflow.errors import UserError
from workflow.files.summary_text import PARTS, read_summary_parts
from workflow.services.permissions import department_actor
from workflow.tasks import TASK_LABELS, is_overdue, task_key
from workflow.text_rules import control_character

SUMMARY_SUFFIXES = (".docx", ".xlsx", ".pdf")
MAX_BYTES = 50 * 1024 * 1024  # a stamped scan is a few MB; the file is kept in the database, read whole


def receive_document(uow, kind: str, department: str, path: Path, *, texts: dict[str, str] | None = None) -> bool:
    """Keep a department's file and close its task; returns True when it came late."""
    with uow:
        plan = uow.plan
        dept, own = department_actor(uow, department, f"代为报送{label(kind)}")
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise UserError(f"{path}: 文件有 {size / 1024 / 1024:.0f} MB，超过上限 {MAX_BYTES // 1024 // 1024} MB"
                                "（请压缩扫描件后再报送）")
            content = path.read_bytes()
        except OSError:
            raise UserError(f"{path}: 文件不存在或无法读取") from None
        if not content:  # a scan that failed, a file saved before it was written: nothing to keep as the report
            raise UserError(f"{path}: 文件是空的（0 字节），未报送")
        if kind == "summary" and path.suffix.lower() not in SUMMARY_SUFFIXES:
            raise UserError(f"{path}: 总结应为 DOCX、XLSX 或 PDF 文件")
        parts = read_summary_parts(path) if kind == "summary" and path.suffix.lower() != ".pdf" else {}
        _refuse_control_characters(parts, str(path))
        _refuse_control_characters(texts or {}, "")
        parts = {key: (texts or {}).get(key) or parts.get(key, "") for key in PARTS}
        if kind == "summary" and not any(parts.values()):
            raise UserError(f"{path}: 没有找到“亮点”“经验做法”“存在问题”的内容（PDF 请用 --highlights、--practices、"
                            "--problems 给出）")
        key = task_key(kind, plan.code, department=department)
        task = uow.tasks.get(key)
        digest = hashlib.sha256(content).hexdigest()
        uow.documents.add(plan.code, kind, department, filename=path.name, content=content, sha256=digest, parts=parts,
                          now=uow.now, actor=uow.actor)
        late = bool(task and is_overdue(task.due_at, uow.now))
        uow.tasks.close_key(key, now=uow.now)
        uow.record(kind, payload={"department": department, "file": path.name, "sha256": digest, "late": late,
                                  "on_behalf": not own})
        return late


def _refuse_control_characters(parts: dict[str, str], path: str) -> None:
    """A summary's parts run over several lines, but hold no other control character (they go into XLSX reports)."""
    for key, text in parts.items():
        if refused := control_character(text or "", multiline=True):
            raise UserError(f"{path}: {PARTS[key]}: {refused}" if path else f"--{key}: {refused}")


def label(kind: str) -> str:
    return TASK_LABELS.get(kind, kind)
