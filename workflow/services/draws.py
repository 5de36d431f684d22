"""The enterprise draw in the database: commit, the public run (which is the dispatch), verify.

Every round is a row of ``draws`` and every step is in the campaign's audit
chain, so a re-drawn campaign shows as such and the recorded inputs re-derive
the recorded outcome (``verify_draw``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from workflow import draw as algorithm
from workflow.audit import campaign_chain
from workflow.errors import UserError
from workflow.identity import require_office
from workflow.persistence.draws import ENTERPRISES, DrawRecord
from workflow.services.dispatch import open_department_files, queue_dispatch
from workflow.services.inspections import start_inspections


def draw_document(record: DrawRecord, code: str) -> dict:
    """The ``draw run --json`` object: exactly these keys (strata only for a stratified draw)."""
    doc = {"campaign": code, "algorithm": algorithm.ALGORITHM, "eligible": record.eligible,
           "sample_size": record.result["sample_size"], "snapshot_sha256": record.snapshot_sha256,
           "commitment": record.commitment, "secret": record.secret_hex, "witness": record.witness,
           "seed": record.seed, "sampled": record.result["sampled"]}
    if record.result.get("strata"):
        doc["strata"] = record.result["strata"]
    return doc


def commit_draw(uow, *, secret: bytes | None = None, redraw_reason: str | None = None,
                random_bytes: Callable[[int], bytes] = os.urandom) -> DrawRecord:
    """Fix the eligible snapshot at ``now`` and commit to a secret (a new round with ``redraw_reason``)."""
    with uow:
        return _commit_draw(uow, secret, redraw_reason, random_bytes)


def _commit_draw(uow, secret, redraw_reason, random_bytes) -> DrawRecord:
    plan, now = uow.plan, uow.now
    require_office(plan, uow.actor, "提交抽取承诺")
    existing = uow.draws.current(plan.code)
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
    rows = uow.directory.eligible(plan.sampling, at, stratified=stratified)
    if not rows:
        raise UserError(f"抽查任务“{plan.code}”在 {at:%Y-%m-%d} 没有符合抽取条件的企业，未作记录")
    snapshot = algorithm.snapshot_text(rows, stratified)
    snapshot_sha256 = algorithm.sha256_hex(snapshot.encode("utf-8"))
    secret = secret if secret is not None else random_bytes(algorithm.SECRET_BYTES)
    round_ = existing.round + 1 if existing else 1
    commitment = algorithm.commitment(secret)
    record = uow.draws.commit(plan.code, ENTERPRISES, round_=round_, algorithm=algorithm.ALGORITHM,
                              secret_hex=secret.hex(), commitment=commitment, snapshot=snapshot,
                              snapshot_sha256=snapshot_sha256, eligible=len(rows), now=now, actor=uow.actor,
                              redraw_reason=redraw_reason.strip() if redraw_reason else None)
    payload = {"round": round_, "algorithm": algorithm.ALGORITHM, "commitment": commitment,
               "snapshot_sha256": snapshot_sha256, "eligible": len(rows)}
    if redraw_reason:
        payload["redraw_reason"] = redraw_reason.strip()
    uow.record("draw_commit", payload=payload)
    return record


@dataclass(frozen=True)
class RunOutcome:
    record: DrawRecord
    already_run: bool = False
    warning: str | None = None


def already_run(uow, record: DrawRecord, witness: str, action: str, warning: str) -> RunOutcome:
    """A public draw held once is only shown again: a different witness text is ignored, with a warning, and audited."""
    if witness == record.witness:
        return RunOutcome(record, already_run=True)
    uow.record(action, payload={"round": record.round, "witness_given": witness, "witness_recorded": record.witness})
    return RunOutcome(record, already_run=True, warning=warning)


def run_draw(uow, *, witness: str) -> RunOutcome:
    """The public draw: reveal, derive the sample, and dispatch it (the sampled inspections and their tasks;
    each department's list written to the campaign's folder and emailed to its contact)."""
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "公开抽取")
        record = uow.draws.current(plan.code)
        if record is None:
            raise UserError(f"抽查任务“{plan.code}”尚未提交抽取承诺（先运行 ssj draw commit {plan.code}）")
        if record.run_at is not None:
            return already_run(uow, record, witness, "draw_run_ignored",
                               f"警告：抽查任务“{plan.code}”已于 {record.run_at.astimezone(plan.tz):%Y-%m-%d %H:%M} "
                               "公开抽取，本次提供的见证文本与记录不同，已忽略；以下为已记录的抽取结果")
        seed = algorithm.seed(record.secret_hex, witness, record.snapshot_sha256)
        result = algorithm.draw(algorithm.parse_snapshot(record.snapshot), seed, plan.sampling)
        stored = {"sample_size": result.sample_size, "sampled": list(result.sampled)}
        if result.strata:
            stored["strata"] = result.strata
        record = uow.draws.record_run(record, witness=witness, seed=seed, result=stored, now=uow.now, actor=uow.actor)
        uow.record("draw_run", payload={"round": record.round, "secret": record.secret_hex, "witness": witness,
                                        "seed": seed, "sample_size": result.sample_size,
                                        "sampled": list(result.sampled)})
        start_inspections(uow, result.sampled, draw_id=record.id)
        open_department_files(uow)
        queue_dispatch(uow, result.sampled, round_=record.round)
        return RunOutcome(record)


@dataclass(frozen=True)
class Check:
    subject: str  # 快照 / 密钥 / 见证 / 抽取结果 / 检查对象
    ok: bool
    detail: str


def verify_draw(uow) -> list[Check]:
    """Re-derive the current round from its recorded inputs and compare with what is recorded.

    The draw row is compared with itself and with the hash-chained audit rows written
    at commit and run, so editing a value and its hash together is still caught.
    """
    with uow:
        plan = uow.plan
        record = uow.draws.current(plan.code)
        if record is None:
            raise UserError(f"抽查任务“{plan.code}”尚未抽取")
        checks, seed = commit_reveal_checks(uow, record, "draw_commit", "draw_run")
        if record.run_at is None:
            return checks
        ran = audited(uow, record.round, "draw_run").get("draw_run", {})
        in_db = uow.inspections.usccs_of_draw(plan.code, record.id)
    result = algorithm.draw(algorithm.parse_snapshot(record.snapshot), seed, plan.sampling)
    recorded = record.result["sampled"]
    same = list(result.sampled) == recorded == ran.get("sampled")
    checks.append(Check("抽取结果", same, f"重新推导抽中 {result.sample_size} 户，记录为 {len(recorded)} 户"
                        + ("" if same else f"；不同的企业：{'、'.join(sorted(set(result.sampled) ^ set(recorded))[:10])}")))
    checks.append(Check("检查对象", in_db == set(result.sampled),
                        f"数据库中本轮抽查对象 {len(in_db)} 户"
                        + ("" if in_db == set(result.sampled) else
                           f"，与抽取结果不同：{'、'.join(sorted(in_db ^ set(result.sampled))[:10])}")))
    return checks


def commit_reveal_checks(uow, record: DrawRecord, commit_action: str,
                         run_action: str) -> tuple[list[Check], str | None]:
    """The checks both draws share: the snapshot and the secret against their commitment, and — once run —
    the seed from secret, witness and snapshot; each also against what the audit chain recorded then.

    Returns the checks and the re-derived seed (None before the run)."""
    recorded = audited(uow, record.round, commit_action, run_action)
    committed, ran = recorded.get(commit_action, {}), recorded.get(run_action, {})
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


def audited(uow, round_: int, *actions: str) -> dict[str, dict]:
    """The payloads the audit chain recorded for this round's ``actions`` (commit and run)."""
    return {action: payload for action, payload in uow.audit.payloads(campaign_chain(uow.plan.code), actions)
            if payload.get("round") == round_}


def current_round(uow) -> DrawRecord | None:
    """The enterprise draw's latest round (its snapshot is what ``ssj draw snapshot`` exports)."""
    with uow:
        return uow.draws.current(uow.plan.code)
