"""The officer draw in the database: commit the pool, the public run (the teams), verify, substitute.

Rows of ``draws`` with kind ``officers`` (``ssj-match-v2``: the campaign file's draw
parties each commit to a secret of their own and reveal it at the public draw, so
neither the office nor any one party can choose the teams); the teams are
``team_members`` rows, each with why the officer was eligible; every step is in the
campaign's audit chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from workflow import draw as commit_reveal
from workflow import matching
from workflow.deadline_words import instant_words
from workflow.errors import NotFound, UserError
from workflow.identity import require_office
from workflow.inspection import ASSIGNED, CONFIRMED, SAMPLED
from workflow.letter import group_greeting, signature
from workflow.machine import CHANGE_TEAM, require
from workflow.mail import mails
from workflow.persistence.draws import OFFICERS, DrawRecord
from workflow.services import draw_parties as party_rules
from workflow.services.draws import Check, RunOutcome, already_run, audited, commit_reveal_checks
from workflow.services.inspections import inspection_of
from workflow.services.permissions import department_actor
from workflow.services.reactions import dispatch_to_officers, release_idle


def _pool_facts(uow) -> tuple[list, list, list]:
    """Who may be drawn, for which enterprises, and which pairs never: the snapshot's facts."""
    plan = uow.plan
    confirmed = uow.inspections.in_campaign(plan.code, state=CONFIRMED)
    answers = uow.inspections.answers([i.id for i in confirmed])
    needs = [matching.Need(i.uscc, tuple(a.department for a in answers.get(i.id, ()) if a.inspects))
             for i in confirmed]
    departments = sorted({d for n in needs for d in n.departments})
    officers = [matching.PoolOfficer(cert, dept, valid.isoformat()) for cert, dept, valid in
                uow.directory.on_duty(departments, valid_through=plan.deadlines["visit"].end)]
    certs = {x.certificate_no for x in officers}
    usccs = {n.uscc for n in needs}
    exclusions = [matching.Exclusion(c, u, matching.CONFLICT) for c, u in uow.directory.conflicts()
                  if c in certs and u in usccs]
    since = uow.now - timedelta(days=plan.matching.conflict_window_days)
    exclusions += [matching.Exclusion(c, u, matching.RECENT) for c, u in uow.teams.recent_pairs(since=since,
                                                                                                other_than=plan.code)
                   if c in certs and u in usccs]
    return officers, needs, exclusions


@dataclass(frozen=True)
class Postponed:
    """The public officer draw could not be held: a named party did not reveal its secret (recorded, not run)."""

    missing: tuple[str, ...]
    message: str


def commitments_checked(uow, commitments: Sequence[str]) -> None:
    """``match commit``'s ``PARTY=HEX`` commitments checked before the act, so a bad one is refused with nothing
    recorded (not even a refusal row); one who may not draw at all is left to the act, whose refusal is audited."""
    with uow:
        if party_rules.may_draw(uow, "执法人员抽取"):
            party_rules.commitments(uow.plan, commitments, matching.ALGORITHM)


def reveals_checked(uow, reveals: Sequence[str], witness: str) -> None:
    """``match run``'s reveals and witness checked before the act (a refusal then records nothing): each reveal
    must open its party's commitment, the normalised witness must not be empty. A missing reveal is the act's:
    it postpones the draw, recorded."""
    party_rules.witness(witness)
    with uow:
        if not party_rules.may_draw(uow, "执法人员抽取"):
            return
        record = uow.draws.current(uow.plan.code, OFFICERS)
        if record is None or record.run_at is not None:
            return
        if record.algorithm == matching.ALGORITHM_V2:
            party_rules.reveals(uow.plan, record.parties, reveals)
        elif reveals:
            raise UserError(f"抽查任务“{uow.plan.code}”的执法人员抽取承诺为 {record.algorithm}（办公室单方密钥），"
                            "不需要 --reveal")


def commit_match(uow, *, commitments: Sequence[str] = (),
                 random_bytes: Callable[[int], bytes] = os.urandom) -> DrawRecord:
    """Fix the officer pool snapshot once every confirmation is closed and record each party's commitment
    (``ssj-match-v2``): no secret is stored, so nothing in the database yet decides the teams. The office
    mailbox gets the values to publish before the public draw (【待公布】). A campaign stored before v2 commits
    by v1: a secret from ``random_bytes``, stored."""
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "提交执法人员抽取承诺")
        given = party_rules.commitments(plan, commitments, matching.ALGORITHM)
        existing = uow.draws.current(plan.code, OFFICERS)
        if existing is not None:
            raise UserError(f"抽查任务“{plan.code}”已提交执法人员抽取承诺（快照哈希 {existing.snapshot_sha256}）")
        waiting = len(uow.inspections.in_campaign(plan.code, state=SAMPLED))
        if waiting:
            raise UserError(f"尚有 {waiting} 户企业未完成比对确认（状态为“已抽取”），比对确认结束后才能抽取执法人员")
        officers, needs, exclusions = _pool_facts(uow)
        if not needs:
            raise UserError(f"抽查任务“{plan.code}”没有已确认的检查对象，无需抽取执法人员")
        snapshot = matching.snapshot_text(officers, needs, exclusions)
        snapshot_sha256 = commit_reveal.sha256_hex(snapshot.encode("utf-8"))
        facts = {"snapshot_sha256": snapshot_sha256, "officers": len(officers), "enterprises": len(needs),
                 "exclusions": len(exclusions)}
        if plan.draw_parties:
            parties = [{"party": p, "commitment": given[p], "secret": None} for p in plan.draw_parties]
            published = [{"party": p["party"], "commitment": p["commitment"]} for p in parties]
            record = uow.draws.commit(plan.code, OFFICERS, round_=1, algorithm=matching.ALGORITHM_V2, parties=parties,
                                      snapshot=snapshot, snapshot_sha256=snapshot_sha256, eligible=len(officers),
                                      now=uow.now, actor=uow.actor)
            uow.record("match_commit", payload={"round": 1, "algorithm": matching.ALGORITHM_V2, "parties": published,
                                                **facts})
        else:
            secret = random_bytes(commit_reveal.SECRET_BYTES)
            published = [{"party": plan.office, "commitment": commit_reveal.commitment(secret)}]
            record = uow.draws.commit(plan.code, OFFICERS, round_=1, algorithm=matching.ALGORITHM,
                                      secret_hex=secret.hex(), commitment=published[0]["commitment"],
                                      snapshot=snapshot, snapshot_sha256=snapshot_sha256, eligible=len(officers),
                                      now=uow.now, actor=uow.actor)
            uow.record("match_commit", payload={"round": 1, "algorithm": matching.ALGORITHM,
                                                "commitment": record.commitment, **facts})
        uow.queue(mails(f"match-commit|{plan.code}|{record.round}", plan.office_mailboxes, kind="match_committed",
                        template="match_committed",
                        context={"greeting": group_greeting(), "campaign_name": plan.name, "campaign_code": plan.code,
                                 "at": instant_words(uow.now, plan.tz), "algorithm": record.algorithm,
                                 "signature": signature(plan),
                                 "snapshot_sha256": snapshot_sha256, "officers": len(officers),
                                 "parties": published}))
        return record


def _seed(record: DrawRecord, witness: str) -> str:
    """The seed of the recorded round from its recorded inputs (v2: every party's secret; v1: the office's)."""
    if record.algorithm == matching.ALGORITHM:
        return commit_reveal.seed(record.secret_hex, witness, record.snapshot_sha256)
    return commit_reveal.seed_v2(matching.ALGORITHM_V2, record.snapshot_sha256,
                                 [(p["party"], p["secret"]) for p in record.parties], witness)


def _teams(uow, record: DrawRecord, seed: str) -> matching.MatchResult:
    officers, needs, exclusions = matching.parse_snapshot(record.snapshot)
    m = uow.plan.matching
    return matching.match(officers, needs, exclusions, seed, per_enterprise=m.officers_per_enterprise,
                          per_department_minimum=m.per_department_minimum,
                          window_days=m.conflict_window_days, department_names=uow.directory.department_names())


def _revealed(uow, record: DrawRecord, reveals: Sequence[str]) -> tuple[list[dict], list[str]]:
    """The parties with the secrets revealed now, and who did not reveal (a secret that does not open its
    party's commitment is refused naming the party, nothing recorded)."""
    given = party_rules.reveals(uow.plan, record.parties, reveals)
    parties = [{**p, "secret": given.get(p["party"])} for p in record.parties]
    return parties, [p["party"] for p in parties if p["secret"] is None]


def run_match(uow, *, reveals: Sequence[str] = (), witness: str) -> RunOutcome | Postponed:
    """The public officer draw: every party reveals, the witnesses speak, every team is derived.

    A reveal that does not match its commitment, or a rule that cannot be met, is refused and records
    nothing; a party that does not reveal postpones the draw, which is recorded (``match_postponed``)."""
    witness = party_rules.witness(witness)
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "执法人员公开抽取")
        record = uow.draws.current(plan.code, OFFICERS)
        if record is None:
            raise UserError(f"抽查任务“{plan.code}”尚未提交执法人员抽取承诺（各参与方提交承诺值后运行 "
                            f"ssj match commit {plan.code} --commitment 参与方=承诺值 …）")
        if record.run_at is not None:
            return already_run(uow, record, witness, "match_run_ignored",
                               "警告：执法人员已公开抽取，本次提供的见证文本与记录不同，已忽略；以下为已记录的结果")
        parties = None
        if record.algorithm == matching.ALGORITHM_V2:
            parties, missing = _revealed(uow, record, reveals)
            if missing:
                revealed = [p["party"] for p in parties if p["secret"] is not None]
                uow.record("match_postponed", payload={"round": record.round, "missing": missing,
                                                       "revealed": revealed, "witness": witness})
                return Postponed(tuple(missing), f"{'、'.join(f'“{p}”' for p in missing)}未公开密钥，执法人员公开抽取"
                                 "推迟（已记入审计记录）；各参与方到场后再运行 ssj match run，每方一个 --reveal")
            record = replace(record, parties=parties)
        elif reveals:
            raise UserError(f"抽查任务“{plan.code}”的执法人员抽取承诺为 {record.algorithm}（办公室单方密钥），不需要 --reveal")
        seed = _seed(record, witness)
        result = _teams(uow, record, seed)
        if result.shortages:
            head = f"无法按规则组成检查组（{len(result.shortages)} 处），未作记录："
            raise UserError(head, [head, *result.shortages])
        # every enterprise of the committed snapshot gets its team, one withdrawn since the commitment too (as when
        # withdrawn after the run): the teams are what the commitment derives, and what verify_match re-derives
        ids = {i.uscc: i.id for i in uow.inspections.in_campaign(plan.code, usccs=sorted(result.teams))}
        uow.teams.add([{"inspection_id": ids[uscc], "certificate_no": m.certificate_no, "department_code": m.department,
                        "eligibility": m.why} for uscc, team in result.teams.items() for m in team], uow.now)
        teams = {uscc: [[m.certificate_no, m.department] for m in team] for uscc, team in sorted(result.teams.items())}
        record = uow.draws.record_run(record, witness=witness, seed=seed, result={"teams": teams}, now=uow.now,
                                      actor=uow.actor, parties=parties)
        revealed = {"parties": parties} if parties is not None else {"secret": record.secret_hex}
        uow.record("match_run", payload={"round": 1, "algorithm": record.algorithm, **revealed, "witness": witness,
                                         "seed": seed, "teams": teams})
        return RunOutcome(record)


def _party_checks(uow, record: DrawRecord) -> tuple[list[Check], str | None]:
    """``ssj-match-v2``: the snapshot, each party's secret against its commitment, and the seed from them all —
    each also against what the audit chain recorded at the commit and at the run."""
    recorded = audited(uow, record.round, "match_commit", "match_run")
    committed, ran = recorded.get("match_commit", {}), recorded.get("match_run", {})
    snapshot_hash = commit_reveal.sha256_hex(record.snapshot.encode("utf-8"))
    checks = [Check("快照", snapshot_hash == record.snapshot_sha256 == committed.get("snapshot_sha256"),
                    f"快照的 SHA-256 为 {snapshot_hash}，记录为 {record.snapshot_sha256}，"
                    f"承诺时公布为 {committed.get('snapshot_sha256')}")]
    published = {p.get("party"): p.get("commitment") for p in committed.get("parties", [])}
    revealed = {p.get("party"): p.get("secret") for p in ran.get("parties", [])}
    names = [p["party"] for p in record.parties]
    checks.append(Check("参与方", names == list(uow.plan.draw_parties) == list(published),
                        f"记录的参与方：{'、'.join(names)}；抽查任务文件：{'、'.join(uow.plan.draw_parties)}"))
    for p in record.parties:
        secret = p["secret"] or ""
        digest = commit_reveal.sha256_hex(bytes.fromhex(secret)) if len(secret) == 64 else "（无效密钥）"
        ok = digest == p["commitment"] == published.get(p["party"]) and secret == revealed.get(p["party"])
        checks.append(Check(f"密钥（{p['party']}）", ok,
                            f"密钥的 SHA-256 为 {digest}，承诺值记录为 {p['commitment']}，"
                            f"承诺时公布为 {published.get(p['party'])}"))
    if any(not c.ok for c in checks[2:]):
        return checks, None
    seed = _seed(record, record.witness)
    ok = (seed == record.seed == ran.get("seed") and record.witness == ran.get("witness")
          and record.witness == commit_reveal.normalise_witness(record.witness))
    checks.append(Check("见证", ok, f"由各方密钥、见证文本和快照算得种子 {seed}，记录为 {record.seed}，"
                                    f"抽取时公布为 {ran.get('seed')}"))
    return checks, seed


def verify_match(uow) -> list[Check]:
    """Re-derive the teams from the recorded snapshot, secrets and witness; compare with every record of them."""
    with uow:
        plan = uow.plan
        record = uow.draws.current(plan.code, OFFICERS)
        if record is None or record.run_at is None:
            raise UserError(f"抽查任务“{plan.code}”尚未公开抽取执法人员")
        if record.algorithm == matching.ALGORITHM:
            checks, seed = commit_reveal_checks(uow, record, "match_commit", "match_run")
        else:
            checks, seed = _party_checks(uow, record)
        if seed is None:  # a secret does not hash to its commitment: nothing can be derived from it
            return checks
        result = _teams(uow, record, seed)
        drawn = uow.teams.drawn(plan.code)
    derived = {u: [[m.certificate_no, m.department] for m in team] for u, team in sorted(result.teams.items())}
    recorded = record.result["teams"]
    checks.append(Check("检查组", derived == recorded and not result.shortages,
                        f"重新推导 {len(derived)} 个检查组，记录为 {len(recorded)} 个"))
    as_sets = {u: {tuple(m) for m in team} for u, team in derived.items()}
    checks.append(Check("检查组成员", drawn == as_sets, f"数据库中抽取的检查组成员 {sum(map(len, drawn.values()))} 人次"))
    return checks


def officer_round(uow) -> DrawRecord | None:
    """The officer draw as recorded (its snapshot is what ``ssj match snapshot`` exports)."""
    with uow:
        return uow.draws.current(uow.plan.code, OFFICERS)


def replace_member(uow, uscc: str, certificate_no: str, *, reason: str) -> matching.Member:
    """Draw a substitute for an unavailable officer, under the same rules, from the remaining pool."""
    with uow:
        plan = uow.plan
        require_office(plan, uow.actor, "更换执法人员")
        if not reason.strip():
            raise UserError("更换执法人员须说明理由（--reason）")
        record = uow.draws.current(plan.code, OFFICERS)
        if record is None or record.run_at is None:
            raise UserError(f"抽查任务“{plan.code}”尚未公开抽取执法人员")
        inspection = inspection_of(uow, uscc)
        require(inspection, CHANGE_TEAM)
        active = uow.teams.active(inspection.id)
        if certificate_no not in active:
            raise UserError(f"执法人员 {certificate_no} 不在企业 {uscc} 的检查组中")
        department = active[certificate_no]
        officers, _, exclusions = matching.parse_snapshot(record.snapshot)
        excluded = {(x.certificate_no, x.uscc) for x in exclusions}
        released = uow.teams.ever(inspection.id)
        still = {cert for cert, _, _ in uow.directory.on_duty([department], valid_through=plan.deadlines["visit"].end)}
        candidates = [x for x in officers if x.department == department and x.certificate_no in still
                      and x.certificate_no not in released and (x.certificate_no, uscc) not in excluded]
        if not candidates:
            name = uow.directory.department_names().get(department, department)
            raise UserError(f"{name}没有可替换的执法人员：抽取时的人员库中，其余人员均已在该企业检查组、申报回避、"
                            "近期检查过该企业，或现已不在岗、执法证不覆盖实地核查期")
        load = uow.teams.loads(plan.code)
        chosen = min(candidates, key=lambda x: (load.get(x.certificate_no, 0), commit_reveal.rank(
            record.seed, f"{uscc}\n{x.certificate_no}\nreplace")))
        why = (f"替换 {certificate_no}（{reason.strip()}）：在岗；执法证有效期至 {chosen.valid_until}，覆盖实地核查期；"
               f"未申报回避该企业；{plan.matching.conflict_window_days} 天内未检查过该企业；"
               f"当时已承担 {load.get(chosen.certificate_no, 0)} 户")
        uow.teams.release(inspection.id, certificate_no, now=uow.now, reason=reason.strip())
        uow.teams.add([{"inspection_id": inspection.id, "certificate_no": chosen.certificate_no,
                        "department_code": department, "eligibility": why, "substitute_for": certificate_no}], uow.now)
        uow.record("match_replace", uscc=uscc, payload={"replaced": certificate_no, "substitute": chosen.certificate_no,
                                                        "department": department, "reason": reason.strip()})
        if inspection.state == ASSIGNED:  # the forms are out: the substitute is asked and mailed now
            dispatch_to_officers(uow, [inspection], only={chosen.certificate_no})
        release_idle(uow, {certificate_no})
        return matching.Member(chosen.certificate_no, department, why)


def teams_document(record: DrawRecord, code: str) -> dict:
    """The ``match run --json`` object: v2 lists ``parties`` ({party, commitment, secret}, the file's order) where
    v1 had one ``commitment`` and ``secret``."""
    revealed = ({"parties": record.parties} if record.algorithm == matching.ALGORITHM_V2
                else {"commitment": record.commitment, "secret": record.secret_hex})
    return {"campaign": code, "algorithm": record.algorithm, "officers": record.eligible,
            "snapshot_sha256": record.snapshot_sha256, **revealed, "witness": record.witness, "seed": record.seed,
            "teams": record.result["teams"]}


def attach_specialist(uow, uscc: str, certificate_no: str, *, reason: str) -> None:
    """A department attaches a specialist helper (专业人员协助): on the team, never counted."""
    with uow:
        if not reason.strip():
            raise UserError("添加专业人员须说明理由（--reason）")
        inspection = inspection_of(uow, uscc)
        require(inspection, CHANGE_TEAM)
        officer = uow.directory.officer(certificate_no)
        if officer is None:
            raise NotFound(f"执法证号 {certificate_no} 不在执法检查人员名录中")
        department_actor(uow, officer.department_code, "为该部门添加专业人员")
        if officer.status != "在岗":
            raise UserError(f"{officer.name}（{certificate_no}）当前{officer.status}，不能协助检查")
        if certificate_no in uow.teams.ever(inspection.id):
            raise UserError(f"{officer.name}（{certificate_no}）已在企业 {uscc} 的检查组中")
        if uow.directory.declared_conflict(certificate_no, uscc):
            raise UserError(f"{officer.name}（{certificate_no}）申报回避企业 {uscc}，不能协助检查")
        uow.teams.add([{"inspection_id": inspection.id, "certificate_no": certificate_no,
                        "department_code": officer.department_code, "specialist": True,
                        "eligibility": f"专业人员协助（{reason.strip()}）：不计入检查人数和人次"}], uow.now)
        uow.record("specialist", uscc=uscc, payload={"certificate_no": certificate_no, "reason": reason.strip(),
                                                    "department": officer.department_code})
