"""``ssj publish``: the office publishes the back-filled results (已回填 → 已公示) and writes the public files.

One transaction moves every back-filled enterprise and records the files' SHA-256;
the notice and the head file (``<code>-审计链头.txt``) carry the campaign's audit
chain head as it stands after the moves — the publication row that follows records
the files' hashes, so the head and the files vouch for each other;
the files are written beside their final names first and put in place once the
transaction has committed, so the public files never show a publication that did
not happen. A process killed before the commit leaves nothing published; killed
after it, ``ssj publish`` run again writes the files (nothing left to move).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import CannotComplete, UserError
from workflow.files.publication import write_anchor, write_exchange, write_notice
from workflow.identity import require_office
from workflow.inspection import PUBLISHED, REPORTED
from workflow.machine import PUBLISH
from workflow.publication import exchange_record, notice_title
from workflow.results import enterprise_codes, wording
from workflow.services.audit_trail import campaign_anchor
from workflow.services.campaigns import redraw_note
from workflow.services.inspections import BatchReport, move_all
from workflow.persistence.statistics_refresh import PUBLICATION_TABLES, refresh_statistics


@dataclass(frozen=True)
class PublishReport:
    moved: BatchReport
    published: int
    files: list[Path]


def published_records(uow) -> list[dict[str, str]]:
    """One exchange record per published enterprise, in USCC order."""
    plan = uow.plan
    departments = uow.reports.inspecting_department_names(plan)
    codes = uow.reports.item_codes(plan.code)
    remark = redraw_note(uow)
    return [exchange_record(plan, enterprise=name, uscc=uscc, departments=departments.get(iid, []),
                            finished=visit.isoformat(),
                            results=wording(enterprise_codes(list(codes.get(iid, {}).values()))), remark=remark)
            for iid, uscc, name, _, visit in uow.reports.enterprises(plan.code, PUBLISHED)]


def publish(uow, out_dir: Path) -> PublishReport:
    """Move, write, record — then, once committed, put the files in place."""
    out_dir = Path(out_dir)
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "公示检查结果")
        moved = move_all(uow, PUBLISH, source=REPORTED)
        uow.seam("publish:moved")
        records = published_records(uow)
        if not records:
            raise UserError(f"抽查任务“{plan.code}”还没有可公示的检查结果（须先回填）")
        anchor = campaign_anchor(uow)  # the head after the moves, held by this transaction
        files = [out_dir / f"{plan.code}-公示信息.jsonl", out_dir / f"{plan.code}-公示信息.csv",
                 out_dir / f"{plan.code}-检查结果公告.html", out_dir / f"{plan.code}-审计链头.txt"]
        drafts = [path.with_name(path.name + ".part") for path in files]
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            _write_drafts(plan, uow.now, records, anchor, drafts)
        except CannotComplete:  # a full disk: no draft of a publication that did not happen stays behind
            for draft in drafts:
                draft.unlink(missing_ok=True)
            raise
        uow.seam("publish:written")
        uow.record("publication", payload={
            "published_now": moved.moved, "published_total": len(records), "anchor": anchor,
            "files": {path.name: hashlib.sha256(draft.read_bytes()).hexdigest() for path, draft in zip(files, drafts)}})
    uow.seam("publish:committed")
    for path, draft in zip(files, drafts):
        draft.replace(path)
    refresh_statistics(uow.engine, PUBLICATION_TABLES)
    return PublishReport(moved, len(records), files)


def _write_drafts(plan, now, records: list[dict[str, str]], anchor: str, drafts: list[Path]) -> None:
    """The exchange file (JSONL, CSV: the national system's format, nothing added), the notice page and the head
    file, each written whole (``workflow.files.atomic``)."""
    write_exchange(records, drafts[0], drafts[1])
    write_anchor(plan, now, anchor, drafts[3])
    intro = [f"根据{plan.document_no}，{plan.office}组织开展了{plan.name}（抽查任务编号：{plan.task_no}），"
             f"随机抽取检查对象 {len(records)} 户（本次公示），现将检查结果公告如下："]
    if records[0]["备注"]:
        intro.append(records[0]["备注"] + "。")
    write_notice(notice_title(plan), intro, records, plan.office, f"{now.astimezone(plan.tz):%Y年%m月%d日}", drafts[2],
                 anchor=anchor)
