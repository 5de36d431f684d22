"""The officer draw in the database: commit the pool, the public run (the teams), verify, substitute.

Rows of ``draws`` with kind ``officers``; the teams are ``team_members`` rows, each
with why the officer was eligible; every step is in the campaign's audit chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from workflow import draw as commit_reveal
from workflow import matching
from workflow.audit import Entry, campaign_chain, canonical_json
from workflow.campaign_file import CampaignPlan
from workflow.errors import NotFound, UserError
from workflow.identity import require_office
from workflow.inspection import STATE_LABELS
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.inspections import InspectionRepository
from workflow.services.campaigns import department_actor
from workflow.services.draws import Check, DrawRecord, RunOutcome, commit_reveal_checks, current_draw

OFFICERS = "officers"
_d = orm.DrawRow.__table__
_team = orm.TeamMemberRow.__table__


def _pool_facts(conn: Connection, plan: CampaignPlan, now: datetime) -> tuple[list, list, list]:
    """Who may be drawn, for which enterprises, and which pairs never: the snapshot's facts."""
    repo = InspectionRepository(conn)
    confirmed = repo.in_campaign(plan.code, state="confirmed")
    answers = repo.answers([i.id for i in confirmed])
    needs = [matching.Need(i.uscc, tuple(a.department for a in answers.get(i.id, ()) if a.inspects))
             for i in confirmed]
    departments = sorted({d for n in needs for d in n.departments})
    visit_end = plan.deadlines["visit"].end
    o = orm.Officer
    officers = [matching.PoolOfficer(cert, dept, valid.isoformat()) for cert, dept, valid in conn.execute(
        select(o.certificate_no, o.department_code, o.certificate_valid_until).where(
            o.status == "在岗", o.in_latest_directory.is_(True), o.certificate_valid_until >= visit_end,
            o.department_code.in_(departments)))]
    certs = {x.certificate_no for x in officers}
    usccs = {n.uscc for n in needs}
    exclusions = [matching.Exclusion(c, u, matching.CONFLICT) for c, u in conn.execute(
        select(orm.OfficerConflict.certificate_no, orm.OfficerConflict.uscc)) if c in certs and u in usccs]
    since = now - timedelta(days=plan.matching.conflict_window_days)
    i, t = orm.InspectionRow, orm.TeamMemberRow
    exclusions += [matching.Exclusion(c, u, matching.RECENT) for c, u in conn.execute(
        select(t.certificate_no, i.uscc).join(i, i.id == t.inspection_id)
        .where(i.inspected_at >= since, i.campaign_code != plan.code)) if c in certs and u in usccs]
    return officers, needs, exclusions


def commit_match(conn: Connection, plan: CampaignPlan, *, now: datetime, actor: str, secret: bytes | None = None,
                 random_bytes: Callable[[int], bytes] = os.urandom) -> DrawRecord:
    """Fix the officer pool snapshot once every confirmation is closed, and commit to a new secret."""
    require_office(plan, actor, "提交执法人员抽取承诺", system_may=True)
    existing = current_draw(conn, plan.code, OFFICERS)
    if existing is not None:
        raise UserError(f"抽查任务“{plan.code}”已提交执法人员抽取承诺（承诺值 {existing.commitment}）")
    i = orm.InspectionRow
    waiting = conn.execute(select(func.count()).where(i.campaign_code == plan.code, i.state == "sampled")).scalar()
    if waiting:
        raise UserError(f"尚有 {waiting} 户企业未完成比对确认（状态为“已抽取”），比对确认结束后才能抽取执法人员")
    officers, needs, exclusions = _pool_facts(conn, plan, now)
    if not needs:
        raise UserError(f"抽查任务“{plan.code}”没有已确认的检查对象，无需抽取执法人员")
    snapshot = matching.snapshot_text(officers, needs, exclusions)
    snapshot_sha256 = commit_reveal.sha256_hex(snapshot.encode("utf-8"))
    secret = secret if secret is not None else random_bytes(commit_reveal.SECRET_BYTES)
    commitment = commit_reveal.commitment(secret)
    conn.execute(insert(_d).values(
        campaign_code=plan.code, kind=OFFICERS, round=1, algorithm=matching.ALGORITHM, secret_hex=secret.hex(),
        commitment=commitment, snapshot=snapshot, snapshot_sha256=snapshot_sha256, eligible=len(officers),
        committed_at=now, committed_by=actor))
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("match_commit", actor, now, plan.code, payload={
        "round": 1, "algorithm": matching.ALGORITHM, "commitment": commitment, "snapshot_sha256": snapshot_sha256,
        "officers": len(officers), "enterprises": len(needs), "exclusions": len(exclusions)})])
    return current_draw(conn, plan.code, OFFICERS)


def _department_names(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(select(orm.Department.code, orm.Department.name)).all())


def _derive(conn: Connection, plan: CampaignPlan, record: DrawRecord, witness: str) -> tuple[str, matching.MatchResult]:
    seed = commit_reveal.seed(record.secret_hex, witness, record.snapshot_sha256)
    officers, needs, exclusions = matching.parse_snapshot(record.snapshot)
    m = plan.matching
    return seed, matching.match(officers, needs, exclusions, seed, per_enterprise=m.officers_per_enterprise,
                                per_department_minimum=m.per_department_minimum,
                                window_days=m.conflict_window_days, department_names=_department_names(conn))


def run_match(conn: Connection, plan: CampaignPlan, *, witness: str, now: datetime, actor: str) -> RunOutcome:
    """The public officer draw: derive every team; when a rule cannot be met, say where and record nothing."""
    require_office(plan, actor, "执法人员公开抽取")
    record = current_draw(conn, plan.code, OFFICERS)
    if record is None:
        raise UserError(f"抽查任务“{plan.code}”尚未提交执法人员抽取承诺（先运行 ssj match commit {plan.code}）")
    if record.run_at is not None:
        warning = None
        if witness != record.witness:
            warning = "警告：执法人员已公开抽取，本次提供的见证文本与记录不同，已忽略；以下为已记录的结果"
            AuditLog(conn).append(campaign_chain(plan.code), [Entry(
                "match_run_ignored", actor, now, plan.code,
                payload={"witness_given": witness, "witness_recorded": record.witness})])
        return RunOutcome(record, already_run=True, warning=warning)
    seed, result = _derive(conn, plan, record, witness)
    if result.shortages:
        raise UserError(f"无法按规则组成检查组（{len(result.shortages)} 处），未作记录：",
                        [f"无法按规则组成检查组（{len(result.shortages)} 处），未作记录：", *result.shortages])
    ids = {i.uscc: i.id for i in InspectionRepository(conn).in_campaign(plan.code, state="confirmed")}
    conn.execute(insert(_team), [
        {"inspection_id": ids[uscc], "certificate_no": m.certificate_no, "department_code": m.department,
         "specialist": False, "matched_at": now, "eligibility": m.why}
        for uscc, team in result.teams.items() for m in team])
    teams = {uscc: [[m.certificate_no, m.department] for m in team] for uscc, team in sorted(result.teams.items())}
    stored = {"teams": teams}
    conn.execute(update(_d).where(_d.c.id == record.id).values(
        witness=witness, seed=seed, result=canonical_json(stored), run_at=now, run_by=actor))
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("match_run", actor, now, plan.code, payload={
        "round": 1, "secret": record.secret_hex, "witness": witness, "seed": seed, "teams": teams})])
    return RunOutcome(current_draw(conn, plan.code, OFFICERS))


def verify_match(conn: Connection, plan: CampaignPlan) -> list[Check]:
    """Re-derive the teams from the recorded snapshot, secret and witness; compare with every record of them."""
    record = current_draw(conn, plan.code, OFFICERS)
    if record is None or record.run_at is None:
        raise UserError(f"抽查任务“{plan.code}”尚未公开抽取执法人员")
    checks, _ = commit_reveal_checks(conn, plan.code, record, "match_commit", "match_run")
    _, result = _derive(conn, plan, record, record.witness)
    derived = {u: [[m.certificate_no, m.department] for m in team] for u, team in sorted(result.teams.items())}
    recorded = record.result["teams"]
    checks.append(Check("检查组", derived == recorded and not result.shortages,
                        f"重新推导 {len(derived)} 个检查组，记录为 {len(recorded)} 个"))
    t, i = orm.TeamMemberRow, orm.InspectionRow
    drawn = {}
    for uscc, cert, dept in conn.execute(select(i.uscc, t.certificate_no, t.department_code)
                                         .join(i, i.id == t.inspection_id)
                                         .where(i.campaign_code == plan.code, t.substitute_for.is_(None),
                                                t.specialist.is_(False)).order_by(t.matched_at)):
        drawn.setdefault(uscc, set()).add((cert, dept))
    as_sets = {u: {tuple(m) for m in team} for u, team in derived.items()}
    checks.append(Check("检查组成员", drawn == as_sets, f"数据库中抽取的检查组成员 {sum(map(len, drawn.values()))} 人次"))
    return checks


def replace_member(conn: Connection, plan: CampaignPlan, uscc: str, certificate_no: str, *, reason: str,
                   now: datetime, actor: str) -> matching.Member:
    """Draw a substitute for an unavailable officer, under the same rules, from the remaining pool."""
    require_office(plan, actor, "更换执法人员")
    if not reason.strip():
        raise UserError("更换执法人员须说明理由（--reason）")
    record = current_draw(conn, plan.code, OFFICERS)
    if record is None or record.run_at is None:
        raise UserError(f"抽查任务“{plan.code}”尚未公开抽取执法人员")
    inspection = InspectionRepository(conn).get(plan.code, uscc, lock=True)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
    if inspection.state not in ("confirmed", "assigned"):
        raise UserError(f"企业 {uscc} 当前为“{STATE_LABELS[inspection.state]}”，不能更换检查组成员")
    t = orm.TeamMemberRow
    active = {c: d for c, d in conn.execute(select(t.certificate_no, t.department_code).where(
        t.inspection_id == inspection.id, t.released_at.is_(None)))}
    if certificate_no not in active:
        raise UserError(f"执法人员 {certificate_no} 不在企业 {uscc} 的检查组中")
    department = active[certificate_no]
    officers, _, exclusions = matching.parse_snapshot(record.snapshot)
    excluded = {(x.certificate_no, x.uscc) for x in exclusions}
    released = set(conn.execute(select(t.certificate_no).where(t.inspection_id == inspection.id)).scalars())
    o = orm.Officer
    still = {c: v for c, v in conn.execute(select(o.certificate_no, o.certificate_valid_until).where(
        o.department_code == department, o.status == "在岗", o.in_latest_directory.is_(True),
        o.certificate_valid_until >= plan.deadlines["visit"].end))}
    candidates = [x for x in officers if x.department == department and x.certificate_no in still
                  and x.certificate_no not in released and (x.certificate_no, uscc) not in excluded]
    names = _department_names(conn)
    if not candidates:
        raise UserError(f"{names.get(department, department)}没有可替换的执法人员：抽取时的人员库中，其余人员均已在该企业"
                        "检查组、申报回避、近期检查过该企业，或现已不在岗、执法证不覆盖实地核查期")
    i = orm.InspectionRow
    load = dict(conn.execute(select(t.certificate_no, func.count()).join(i, i.id == t.inspection_id).where(
        i.campaign_code == plan.code, t.released_at.is_(None)).group_by(t.certificate_no)).all())
    chosen = min(candidates, key=lambda x: (load.get(x.certificate_no, 0),
                                            commit_reveal.rank(record.seed, f"{uscc}\n{x.certificate_no}\nreplace")))
    why = (f"替换 {certificate_no}（{reason.strip()}）：在岗；执法证有效期至 {chosen.valid_until}，覆盖实地核查期；"
           f"未申报回避该企业；{plan.matching.conflict_window_days} 天内未检查过该企业；"
           f"当时已承担 {load.get(chosen.certificate_no, 0)} 户")
    conn.execute(update(_team).where(_team.c.inspection_id == inspection.id,
                                     _team.c.certificate_no == certificate_no)
                 .values(released_at=now, release_reason=reason.strip()))
    conn.execute(insert(_team).values(inspection_id=inspection.id, certificate_no=chosen.certificate_no,
                                      department_code=department, specialist=False, matched_at=now,
                                      eligibility=why, substitute_for=certificate_no))
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("match_replace", actor, now, plan.code, uscc, payload={
        "replaced": certificate_no, "substitute": chosen.certificate_no, "department": department,
        "reason": reason.strip()})])
    return matching.Member(chosen.certificate_no, department, why)


def teams_of(conn: Connection, code: str) -> dict[str, list[dict]]:
    """The current teams (substitutes in, replaced officers out), for reports and forms."""
    t, i, o = orm.TeamMemberRow, orm.InspectionRow, orm.Officer
    out: dict[str, list[dict]] = {}
    for row in conn.execute(select(i.uscc, t.certificate_no, t.department_code, t.specialist, t.eligibility,
                                   o.name, o.mobile).join(i, i.id == t.inspection_id)
                            .join(o, o.certificate_no == t.certificate_no)
                            .where(i.campaign_code == code, t.released_at.is_(None))
                            .order_by(i.uscc, t.department_code, t.certificate_no)):
        out.setdefault(row.uscc, []).append(dict(row._mapping))
    return out


def teams_document(record: DrawRecord, code: str) -> dict:
    return {"campaign": code, "algorithm": matching.ALGORITHM, "officers": record.eligible,
            "snapshot_sha256": record.snapshot_sha256, "commitment": record.commitment, "secret": record.secret_hex,
            "witness": record.witness, "seed": record.seed, "teams": record.result["teams"]}


def attach_specialist(conn: Connection, plan: CampaignPlan, uscc: str, certificate_no: str, *, reason: str,
                      now: datetime, actor: str) -> None:
    """A department attaches a specialist helper (专业人员协助): on the team, never counted."""
    if not reason.strip():
        raise UserError("添加专业人员须说明理由（--reason）")
    inspection = InspectionRepository(conn).get(plan.code, uscc, lock=True)
    if inspection is None:
        raise NotFound(f"企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
    if inspection.state not in ("confirmed", "assigned"):
        raise UserError(f"企业 {uscc} 当前为“{STATE_LABELS[inspection.state]}”，不能添加专业人员")
    officer = conn.execute(select(orm.Officer.__table__).where(orm.Officer.certificate_no == certificate_no)).first()
    if officer is None:
        raise NotFound(f"执法证号 {certificate_no} 不在执法检查人员名录中")
    department_actor(conn, plan, officer.department_code, actor, "为该部门添加专业人员")
    if officer.status != "在岗":
        raise UserError(f"{officer.name}（{certificate_no}）当前{officer.status}，不能协助检查")
    t = orm.TeamMemberRow
    if conn.execute(select(t.certificate_no).where(t.inspection_id == inspection.id,
                                                   t.certificate_no == certificate_no)).first():
        raise UserError(f"{officer.name}（{certificate_no}）已在企业 {uscc} 的检查组中")
    if conn.execute(select(orm.OfficerConflict.uscc).where(orm.OfficerConflict.certificate_no == certificate_no,
                                                           orm.OfficerConflict.uscc == uscc)).first():
        raise UserError(f"{officer.name}（{certificate_no}）申报回避企业 {uscc}，不能协助检查")
    conn.execute(insert(_team).values(inspection_id=inspection.id, certificate_no=certificate_no,
                                      department_code=officer.department_code, specialist=True, matched_at=now,
                                      eligibility=f"专业人员协助（{reason.strip()}）：不计入检查人数和人次"))
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("specialist", actor, now, plan.code, uscc, payload={
        "certificate_no": certificate_no, "reason": reason.strip()})])
