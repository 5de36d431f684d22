"""``ssj publish``: the office publishes the back-filled results (已回填 → 已公示) and writes the public files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from workflow.audit import Entry, campaign_chain
from workflow.campaign_file import CampaignPlan
from workflow.errors import UserError
from workflow.files.publication import write_exchange, write_notice
from workflow.identity import require_office
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.queries import inspecting_department_names, item_codes
from workflow.publication import exchange_record, notice_title
from workflow.results import enterprise_codes, wording
from workflow.services.campaigns import redraw_note
from workflow.services.inspections import BatchReport, move_all


@dataclass(frozen=True)
class PublishReport:
    moved: BatchReport
    published: int
    files: list[Path]


def published_records(conn: Connection, plan: CampaignPlan) -> list[dict[str, str]]:
    """One exchange record per published enterprise, in USCC order."""
    i, e = orm.InspectionRow, orm.Enterprise
    rows = conn.execute(select(i.id, i.uscc, i.visit_date, e.name).join(e, e.uscc == i.uscc)
                        .where(i.campaign_code == plan.code, i.state == "published").order_by(i.uscc)).all()
    departments = inspecting_department_names(conn, plan)
    codes = item_codes(conn, plan.code)
    remark = redraw_note(conn, plan)
    return [exchange_record(plan, enterprise=name, uscc=uscc, departments=departments.get(iid, []),
                            finished=visit.isoformat(),
                            results=wording(enterprise_codes(list(codes.get(iid, {}).values()))), remark=remark)
            for iid, uscc, visit, name in rows]


def publish(engine: Engine, plan: CampaignPlan, out_dir: Path, *, now: datetime, actor: str) -> PublishReport:
    require_office(plan, actor, "公示检查结果")
    moved = move_all(engine, plan, "publish", source="reported", now=now, actor=actor)
    with engine.connect() as conn:
        records = published_records(conn, plan)
    if not records:
        raise UserError(f"抽查任务“{plan.code}”还没有可公示的检查结果（须先回填）")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl, csv_path, notice = (out_dir / f"{plan.code}-公示信息.jsonl", out_dir / f"{plan.code}-公示信息.csv",
                               out_dir / f"{plan.code}-检查结果公告.html")
    write_exchange(records, jsonl, csv_path)
    local = now.astimezone(plan.tz)
    intro = [f"根据《{plan.document_no}》（{plan.name}），{plan.office}组织开展了跨部门“双随机、一公开”联合抽查，"
             f"随机抽取检查对象 {len(records)} 户（本次公示），现将检查结果公告如下："]
    if records[0]["备注"]:
        intro.append(records[0]["备注"] + "。")
    write_notice(notice_title(plan), intro, records, plan.office, f"{local:%Y年%m月%d日}", notice)
    files = [jsonl, csv_path, notice]
    with engine.begin() as conn:
        AuditLog(conn).append(campaign_chain(plan.code), [Entry("publication", actor, now, plan.code, payload={
            "published_now": moved.moved, "published_total": len(records),
            "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}})])
    return PublishReport(moved, len(records), files)
