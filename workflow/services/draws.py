"""The enterprise draw in the database: commit, the public run (which is the dispatch), verify.

Every round is a row of ``draws`` and every step is in the campaign's audit
chain, so a re-drawn campaign shows as such and the recorded inputs re-derive
the recorded outcome (``verify_draw``). A campaign whose file names ``[draw]
parties`` draws by ``ssj-draw-v2``: each party commits, nothing secret is stored
until every party reveals at the public draw, and a party that does not reveal
postpones the draw — recorded, so a refusal is visible. A campaign stored before
v2 (no parties) keeps ``ssj-draw-v1``, and v1 rounds already recorded still verify.
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
from workflow.services import draw_parties as party_rules
from workflow.services.audit_trail import campaign_anchor
from workflow.services.dispatch import open_department_files, queue_dispatch
from workflow.services.inspections import start_inspections
from workflow.persistence.statistics_refresh import DRAW_TABLES, refresh_statistics


def draw_document(record: DrawRecord, code: str) -> dict:
    """The ``draw run --json`` object: exactly these keys (strata only for a stratified draw).

    v2: ``parties`` ([{party, commitment, secret}] in the file's order) where v1 had ``commitment`` and ``secret``."""
    doc = {"campaign": code, "algorithm": record.algorithm, "eligible": record.eligible,
           "sample_size": record.result["sample_size"], "snapshot_sha256": record.snapshot_sha256}
    if record.parties is None:
        doc |= {"commitment": record.commitment, "secret": record.secret_hex}
    else:
        doc["parties"] = [{"party": p["party"], "commitment": p["commitment"], "secret": p["secret"]}
                          for p in record.parties]
    doc |= {"witness": record.witness, "seed": record.seed, "sampled": record.result["sampled"]}
    if record.result.get("strata"):
        doc["strata"] = record.result["strata"]
    return doc


def _v1_only(plan) -> bool:
    """A campaign stored before ssj-draw-v2: its file named no draw parties."""
    return not plan.draw_parties


def commitments_given(uow, items) -> dict[str, str]:
    """``draw commit``'s ``--commitment`` items checked before anything is written (the refusal is then not audited).

    Someone who may not draw at all is left to the act itself, whose refusal is audited."""
    with uow:
        if not party_rules.may_draw(uow, "抽取"):
            return {}
        return party_rules.commitments(uow.plan, items, algorithm.ALGORITHM)


def commit_draw(uow, *, commitments=(), redraw_reason: str | None = None,
                random_bytes: Callable[[int], bytes] = os.urandom) -> DrawRecord:
    """Fix the eligible snapshot at ``now`` and record every party's commitment (``PARTY=HEX`` items; a new round
    with ``redraw_reason``). A campaign stored before v2 commits by v1: a secret from ``random_bytes``."""
    with uow:
        return _commit_draw(uow, commitments, redraw_reason, random_bytes)


def _commit_draw(uow, items, redraw_reason, random_bytes) -> DrawRecord:
    plan, now = uow.plan, uow.now
    require_office(plan, uow.actor, "提交抽取承诺")
    commitments = party_rules.commitments(plan, items, algorithm.ALGORITHM)
    existing = uow.draws.current(plan.code)
    if existing is not None and redraw_reason is None:
        raise UserError(f"抽查任务“{plan.code}”已提交抽取承诺（第 {existing.round} 轮，快照哈希 {existing.snapshot_sha256}）；"
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
    round_ = existing.round + 1 if existing else 1
    common = dict(round_=round_, snapshot=snapshot, snapshot_sha256=snapshot_sha256, eligible=len(rows), now=now,
                  actor=uow.actor, redraw_reason=redraw_reason.strip() if redraw_reason else None)
    if _v1_only(plan):
        secret = random_bytes(algorithm.SECRET_BYTES)
        commitment = algorithm.commitment(secret)
        record = uow.draws.commit(plan.code, ENTERPRISES, algorithm=algorithm.ALGORITHM, secret_hex=secret.hex(),
                                  commitment=commitment, **common)
        payload = {"round": round_, "algorithm": algorithm.ALGORITHM, "commitment": commitment}
    else:
        parties = [{"party": p, "commitment": c, "secret": None} for p, c in commitments.items()]
        record = uow.draws.commit(plan.code, ENTERPRISES, algorithm=algorithm.ALGORITHM_V2, parties=parties, **common)
        payload = {"round": round_, "algorithm": algorithm.ALGORITHM_V2,
                   "parties": [{"party": p, "commitment": c} for p, c in commitments.items()]}
    payload |= {"snapshot_sha256": snapshot_sha256, "eligible": len(rows)}
    if redraw_reason:
        payload["redraw_reason"] = redraw_reason.strip()
    uow.record("draw_commit", payload=payload)
    return record


@dataclass(frozen=True)
class RunOutcome:
    record: DrawRecord
    already_run: bool = False
    warning: str | None = None
    postponed: tuple[str, ...] = ()  # v2: the parties that did not reveal (the draw was not held; recorded)


def already_run(uow, record: DrawRecord, witness: str, action: str, warning: str) -> RunOutcome:
    """A public draw held once is only shown again: a different witness text is ignored, with a warning, and audited."""
    if witness == record.witness:
        return RunOutcome(record, already_run=True)
    uow.record(action, payload={"round": record.round, "witness_given": witness, "witness_recorded": record.witness})
    return RunOutcome(record, already_run=True, warning=warning)


def reveals_given(uow, items, witness: str) -> None:
    """``draw run``'s reveals and witness checked before anything is written (a refusal then records nothing):
    each reveal must hash to its party's commitment, the normalised witness must not be empty."""
    with uow:
        record = uow.draws.current(uow.plan.code)
        open_v2 = record is not None and record.run_at is None and record.parties is not None
        if open_v2 and party_rules.may_draw(uow, "抽取"):
            party_rules.reveals(uow.plan, record.parties, items)
            party_rules.witness(witness)


def run_draw(uow, *, witness: str, reveals=()) -> RunOutcome:
    """The public draw (``_run_draw``); once a held draw's dispatch is committed, the planner learns its rows."""
    outcome = _run_draw(uow, witness, reveals)
    if not outcome.postponed and not outcome.already_run:
        refresh_statistics(uow.engine, DRAW_TABLES)
    return outcome


def _run_draw(uow, witness: str, reveals) -> RunOutcome:
    """The public draw: every party reveals, the sample is derived and dispatched (the sampled inspections and their
    tasks; each department's list written to the campaign's folder and emailed to its contact).

    ``reveals``: ``PARTY=HEX`` items (v2). A party that does not reveal postpones the draw: that is recorded
    (``draw_postponed``, naming who did not reveal) and the round stays open for a later run."""
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "公开抽取")
        record = uow.draws.current(plan.code)
        if record is None:
            raise UserError(f"抽查任务“{plan.code}”尚未提交抽取承诺（先运行 ssj draw commit {plan.code}）")
        v2 = record.parties is not None
        if record.run_at is not None:
            return already_run(uow, record, algorithm.normalise_witness(witness) if v2 else witness, "draw_run_ignored",
                               f"警告：抽查任务“{plan.code}”已于 {record.run_at.astimezone(plan.tz):%Y-%m-%d %H:%M} "
                               "公开抽取，本次提供的见证文本与记录不同，已忽略；以下为已记录的抽取结果")
        if not v2:
            if reveals:
                raise UserError(f"抽查任务“{plan.code}”第 {record.round} 轮按 ssj-draw-v1 承诺（办公室的密钥）：不用 --reveal")
            seed = algorithm.seed(record.secret_hex, witness, record.snapshot_sha256)
            parties, audited_secrets = None, {"secret": record.secret_hex}
        else:
            given, witness = party_rules.reveals(plan, record.parties, reveals), party_rules.witness(witness)
            missing = [p["party"] for p in record.parties if p["party"] not in given]
            if missing:
                uow.record("draw_postponed", payload={"round": record.round, "missing": missing,
                                                      "revealed": list(given)})
                return RunOutcome(record, postponed=tuple(missing))
            parties = [{"party": p["party"], "commitment": p["commitment"], "secret": given[p["party"]]}
                       for p in record.parties]
            seed = algorithm.seed_v2(algorithm.ALGORITHM_V2, record.snapshot_sha256,
                                     [(p["party"], p["secret"]) for p in parties], witness)
            audited_secrets = {"parties": parties}
        result = algorithm.draw(algorithm.parse_snapshot(record.snapshot), seed, plan.sampling)
        stored = {"sample_size": result.sample_size, "sampled": list(result.sampled)}
        if result.strata:
            stored["strata"] = result.strata
        record = uow.draws.record_run(record, witness=witness, seed=seed, result=stored, now=uow.now, actor=uow.actor,
                                      parties=parties)
        uow.record("draw_run", payload={"round": record.round, **audited_secrets, "witness": witness,
                                        "seed": seed, "sample_size": result.sample_size,
                                        "sampled": list(result.sampled)})
        start_inspections(uow, result.sampled, draw_id=record.id)
        open_department_files(uow)
        queue_dispatch(uow, result.sampled, round_=record.round)
        return RunOutcome(record)


def chain_head(uow) -> str | None:
    """The campaign chain's head as an anchor line (chain, seq, full hash, instant), to print after the public
    draw for anyone to keep: ``ssj audit verify --anchors`` accepts the saved output as it is."""
    with uow:
        return campaign_anchor(uow)


def campaign_parties(uow) -> tuple[str, ...]:
    """The campaign's draw parties in its file's order (() for a campaign stored before ssj-draw-v2)."""
    with uow:
        return uow.plan.draw_parties


@dataclass(frozen=True)
class Check:
    subject: str  # 快照 / 承诺 / 密钥 / 见证 / 抽取结果 / 检查对象
    ok: bool
    detail: str


def verify_draw(uow) -> list[Check]:
    """Re-derive the current round from its recorded inputs and compare with what is recorded.

    The draw row is compared with itself and with the hash-chained audit rows written
    at commit and run, so editing a value and its hash together is still caught.
    A v1 round (its ``secret_hex`` recorded) is checked by v1, a v2 round by v2.
    """
    with uow:
        plan = uow.plan
        record = uow.draws.current(plan.code)
        if record is None:
            raise UserError(f"抽查任务“{plan.code}”尚未抽取")
        if record.parties is None:
            checks, seed = commit_reveal_checks(uow, record, "draw_commit", "draw_run")
        else:
            checks, seed = parties_checks(uow, record, "draw_commit", "draw_run", algorithm.ALGORITHM_V2,
                                          plan.draw_parties)
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


def parties_checks(uow, record: DrawRecord, commit_action: str, run_action: str, prefix: str,
                   parties: tuple[str, ...]) -> tuple[list[Check], str | None]:
    """The v2 checks (``ssj-draw-v2``; ``ssj-match-v2`` may share them): the snapshot; the parties and their
    commitments as the campaign file names them and as published at commit; once run, each revealed secret
    against its commitment and as published at the run, and the seed from snapshot, secrets and witness.

    Returns the checks and the re-derived seed (None before the run)."""
    recorded = audited(uow, record.round, commit_action, run_action)
    committed, ran = recorded.get(commit_action, {}), recorded.get(run_action, {})
    snapshot_hash = algorithm.sha256_hex(record.snapshot.encode("utf-8"))
    names = [p["party"] for p in record.parties]
    published = {p.get("party"): p.get("commitment") for p in committed.get("parties", [])}
    stored = {p["party"]: p["commitment"] for p in record.parties}
    checks = [
        Check("快照", snapshot_hash == record.snapshot_sha256 == committed.get("snapshot_sha256"),
              f"快照的 SHA-256 为 {snapshot_hash}，记录为 {record.snapshot_sha256}，"
              f"承诺时公布为 {committed.get('snapshot_sha256')}"),
        Check("承诺", names == list(parties) and stored == published and list(published) == names,
              f"参与方 {'、'.join(names)}（任务文件：{'、'.join(parties)}）"
              + "".join(f"；{p} 的承诺值记录为 {stored.get(p)}，承诺时公布为 {published.get(p)}"
                        for p in names if stored.get(p) != published.get(p))),
    ]
    if record.run_at is None:
        return checks, None
    revealed = {p.get("party"): p.get("secret") for p in ran.get("parties", [])}
    secrets = {p["party"]: p["secret"] for p in record.parties}
    bad = [party for party, secret in secrets.items()
           if not (isinstance(secret, str) and algorithm.is_secret_hex(secret)
                   and algorithm.commitment_of(secret) == stored[party] and revealed.get(party) == secret)]
    checks.append(Check("密钥", not bad and list(revealed) == names,
                        f"各方公开的密钥与其承诺值相符、与抽取时公布的相同：{'、'.join(names)}" if not bad else
                        "不符的参与方：" + "、".join(f"{party}（记录的密钥 {secrets[party]}，抽取时公布为 {revealed.get(party)}，"
                                                   f"承诺值 {stored[party]}）" for party in bad)))
    seed = algorithm.seed_v2(prefix, record.snapshot_sha256, [(p["party"], p["secret"] or "") for p in record.parties],
                             record.witness or "")
    normalised = record.witness == algorithm.normalise_witness(record.witness or "")
    checks.append(Check("见证", normalised and seed == record.seed == ran.get("seed")
                        and record.witness == ran.get("witness"),
                        f"由快照、各方密钥和见证文本算得种子 {seed}，记录为 {record.seed}，抽取时公布为 {ran.get('seed')}"
                        + ("" if normalised else "；记录的见证文本不是规范化后的文本")))
    return checks, seed


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
