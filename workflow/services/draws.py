"""The enterprise draw in the database: commit, the public run (which is the dispatch), verify.

Every round is a row of ``draws`` and every step is in the campaign's audit
chain, so a re-drawn campaign shows as such and the recorded inputs re-derive
the recorded outcome (``verify_draw``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from calendars import WorkdayCalendar
from workflow import draw as algorithm
from workflow.audit import Entry, campaign_chain, canonical_json
from workflow.campaign_file import CampaignPlan
from workflow.errors import UserError
from workflow.identity import require_office
from workflow.persistence import orm
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.queries import eligible_enterprises
from workflow.services.dispatch import queue_dispatch
from workflow.services.documents import open_department_tasks
from workflow.services.inspections import start_inspections

ENTERPRISES = "enterprises"
_d = orm.DrawRow.__table__


@dataclass(frozen=True)
class DrawRecord:
    """A round as stored (the run fields are None until the public draw)."""

    id: int
    round: int
    redraw_reason: str | None
    secret_hex: str
    commitment: str
    snapshot: str
    snapshot_sha256: str
    eligible: int
    committed_at: datetime
    witness: str | None
    seed: str | None
    result: dict | None
    run_at: datetime | None

    def document(self, code: str) -> dict:
        """The ``draw run --json`` object: exactly these keys (strata only for a stratified draw)."""
        doc = {"campaign": code, "algorithm": algorithm.ALGORITHM, "eligible": self.eligible,
               "sample_size": self.result["sample_size"], "snapshot_sha256": self.snapshot_sha256,
               "commitment": self.commitment, "secret": self.secret_hex, "witness": self.witness, "seed": self.seed,
               "sampled": self.result["sampled"]}
        if self.result.get("strata"):
            doc["strata"] = self.result["strata"]
        return doc


def current_draw(conn: Connection, code: str, kind: str = ENTERPRISES) -> DrawRecord | None:
    row = conn.execute(select(_d).where(_d.c.campaign_code == code, _d.c.kind == kind)
                       .order_by(_d.c.round.desc()).limit(1)).first()
    if row is None:
        return None
    return DrawRecord(row.id, row.round, row.redraw_reason, row.secret_hex, row.commitment, row.snapshot,
                      row.snapshot_sha256, row.eligible, row.committed_at, row.witness, row.seed,
                      json.loads(row.result) if row.result else None, row.run_at)


def commit_draw(conn: Connection, plan: CampaignPlan, *, now: datetime, actor: str, secret: bytes | None = None,
                redraw_reason: str | None = None,
                random_bytes: Callable[[int], bytes] = os.urandom) -> DrawRecord:
    """Fix the eligible snapshot at ``now`` and commit to a secret (a new round with ``redraw_reason``)."""
    require_office(plan, actor, "提交抽取承诺")
    existing = current_draw(conn, plan.code)
    if existing is not None and redraw_reason is None:
        raise UserError(f"抽查任务“{plan.code}”已提交抽取承诺（第 {existing.round} 轮，承诺值 {existing.commitment}）；"
                        "如确需重新抽取，请用 --redraw --reason 理由")
    if existing is None and redraw_reason is not None:
        raise UserError(f"抽查任务“{plan.code}”尚未提交过抽取承诺，不需要 --redraw")
    if redraw_reason is not None and not redraw_reason.strip():
        raise UserError("重新抽取须说明理由（--reason）")
    if existing is not None and existing.run_at is not None:
        raise UserError(f"抽查任务“{plan.code}”已于 {existing.run_at.astimezone(plan.tz):%Y-%m-%d %H:%M} 公开抽取，"
                        "结果已公布，不能重新抽取（个别企业可用 ssj withdraw 撤出并说明理由）")
    at = now.astimezone(plan.tz)
    stratified = bool(plan.sampling.strata)
    query = eligible_enterprises(plan.sampling, at, with_credit_risk=stratified)
    rows = conn.execute(query).all() if stratified else [(u, None) for u in conn.execute(query).scalars().all()]
    if not rows:
        raise UserError(f"抽查任务“{plan.code}”在 {at:%Y-%m-%d} 没有符合抽取条件的企业，未作记录")
    snapshot = algorithm.snapshot_text(rows, stratified)
    snapshot_sha256 = algorithm.sha256_hex(snapshot.encode("utf-8"))
    secret = secret if secret is not None else random_bytes(algorithm.SECRET_BYTES)
    round_ = existing.round + 1 if existing else 1
    commitment = algorithm.commitment(secret)
    conn.execute(insert(_d).values(
        campaign_code=plan.code, kind=ENTERPRISES, round=round_, algorithm=algorithm.ALGORITHM,
        redraw_reason=redraw_reason.strip() if redraw_reason else None, secret_hex=secret.hex(),
        commitment=commitment, snapshot=snapshot, snapshot_sha256=snapshot_sha256, eligible=len(rows),
        committed_at=now, committed_by=actor))
    payload = {"round": round_, "algorithm": algorithm.ALGORITHM, "commitment": commitment,
               "snapshot_sha256": snapshot_sha256, "eligible": len(rows)}
    if redraw_reason:
        payload["redraw_reason"] = redraw_reason.strip()
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("draw_commit", actor, now, plan.code, payload=payload)])
    return current_draw(conn, plan.code)


@dataclass(frozen=True)
class RunOutcome:
    record: DrawRecord
    already_run: bool = False
    warning: str | None = None


def run_draw(conn: Connection, plan: CampaignPlan, *, witness: str, now: datetime, actor: str,
             calendar: WorkdayCalendar, files_dir: Path | None = None) -> RunOutcome:
    """The public draw: reveal, derive the sample, and dispatch it (the sampled inspections and their tasks;
    with ``files_dir``, each department's list written there and emailed to its contact)."""
    require_office(plan, actor, "公开抽取")
    record = current_draw(conn, plan.code)
    if record is None:
        raise UserError(f"抽查任务“{plan.code}”尚未提交抽取承诺（先运行 ssj draw commit {plan.code}）")
    if record.run_at is not None:
        warning = None
        if witness != record.witness:
            warning = (f"警告：抽查任务“{plan.code}”已于 {record.run_at.astimezone(plan.tz):%Y-%m-%d %H:%M} 公开抽取，"
                       "本次提供的见证文本与记录不同，已忽略；以下为已记录的抽取结果")
            AuditLog(conn).append(campaign_chain(plan.code), [Entry(
                "draw_run_ignored", actor, now, plan.code,
                payload={"round": record.round, "witness_given": witness, "witness_recorded": record.witness})])
        return RunOutcome(record, already_run=True, warning=warning)
    snapshot = algorithm.parse_snapshot(record.snapshot)
    seed = algorithm.seed(record.secret_hex, witness, record.snapshot_sha256)
    result = algorithm.draw(snapshot, seed, plan.sampling)
    stored = {"sample_size": result.sample_size, "sampled": list(result.sampled)}
    if result.strata:
        stored["strata"] = result.strata
    conn.execute(update(_d).where(_d.c.id == record.id).values(
        witness=witness, seed=seed, result=canonical_json(stored), run_at=now, run_by=actor))
    AuditLog(conn).append(campaign_chain(plan.code), [Entry("draw_run", actor, now, plan.code, payload={
        "round": record.round, "secret": record.secret_hex, "witness": witness, "seed": seed,
        "sample_size": result.sample_size, "sampled": list(result.sampled)})])
    start_inspections(conn, plan, result.sampled, now=now, actor=actor, calendar=calendar, draw_id=record.id)
    open_department_tasks(conn, plan, now=now, calendar=calendar)
    if files_dir is not None:
        queue_dispatch(conn, plan, result.sampled, now=now, round_=record.round, calendar=calendar,
                       files_dir=files_dir)
    return RunOutcome(current_draw(conn, plan.code))


@dataclass(frozen=True)
class Check:
    subject: str  # 快照 / 密钥 / 见证 / 抽取结果 / 检查对象
    ok: bool
    detail: str


def verify_draw(conn: Connection, plan: CampaignPlan) -> list[Check]:
    """Re-derive the current round from its recorded inputs and compare with what is recorded.

    The draw row is compared with itself and with the hash-chained audit rows written
    at commit and run, so editing a value and its hash together is still caught.
    """
    record = current_draw(conn, plan.code)
    if record is None:
        raise UserError(f"抽查任务“{plan.code}”尚未抽取")
    checks, seed = commit_reveal_checks(conn, plan.code, record, "draw_commit", "draw_run")
    if record.run_at is None:
        return checks
    ran = _audited(conn, plan.code, record.round, "draw_run").get("draw_run", {})
    result = algorithm.draw(algorithm.parse_snapshot(record.snapshot), seed, plan.sampling)
    recorded = record.result["sampled"]
    same = list(result.sampled) == recorded == ran.get("sampled")
    checks.append(Check("抽取结果", same, f"重新推导抽中 {result.sample_size} 户，记录为 {len(recorded)} 户"
                        + ("" if same else f"；不同的企业：{'、'.join(sorted(set(result.sampled) ^ set(recorded))[:10])}")))
    i = orm.InspectionRow
    in_db = set(conn.execute(select(i.uscc).where(i.campaign_code == plan.code, i.draw_id == record.id)).scalars())
    checks.append(Check("检查对象", in_db == set(result.sampled),
                        f"数据库中本轮抽查对象 {len(in_db)} 户"
                        + ("" if in_db == set(result.sampled) else
                           f"，与抽取结果不同：{'、'.join(sorted(in_db ^ set(result.sampled))[:10])}")))
    return checks


def commit_reveal_checks(conn: Connection, code: str, record: DrawRecord, commit_action: str,
                         run_action: str) -> tuple[list[Check], str | None]:
    """The checks both draws share: the snapshot and the secret against their commitment, and — once run —
    the seed from secret, witness and snapshot; each also against what the audit chain recorded then.

    Returns the checks and the re-derived seed (None before the run)."""
    audited = _audited(conn, code, record.round, commit_action, run_action)
    committed, ran = audited.get(commit_action, {}), audited.get(run_action, {})
    snapshot_hash = algorithm.sha256_hex(record.snapshot.encode("utf-8"))
    secret_hash = algorithm.commitment(bytes.fromhex(record.secret_hex))
    checks = [
        Check("快照", snapshot_hash == record.snapshot_sha256 == committed.get("snapshot_sha256"),
              f"快照的 SHA-256 为 {snapshot_hash}，记录为 {record.snapshot_sha256}，"
              f"承诺时公布为 {committed.get('snapshot_sha256')}"),
        Check("密钥", secret_hash == record.commitment == committed.get("commitment"),
              f"密钥的 SHA-256 为 {secret_hash}，承诺值记录为 {record.commitment}，承诺时公布为 {committed.get('commitment')}"),
    ]
    if record.run_at is None:
        return checks, None
    seed = algorithm.seed(record.secret_hex, record.witness, record.snapshot_sha256)
    checks.append(Check("见证", seed == record.seed == ran.get("seed") and record.witness == ran.get("witness"),
                        f"由密钥、见证文本和快照算得种子 {seed}，记录为 {record.seed}，抽取时公布为 {ran.get('seed')}"))
    return checks, seed


def _audited(conn: Connection, code: str, round_: int, *actions: str) -> dict[str, dict]:
    """The payloads the audit chain recorded for this round's ``actions`` (commit and run)."""
    e = orm.AuditEvent
    found = {}
    for action, payload in conn.execute(select(e.action, e.payload).where(
            e.chain == campaign_chain(code), e.action.in_(actions)).order_by(e.seq)):
        data = json.loads(payload)
        if data.get("round") == round_:
            found[action] = data
    return found
