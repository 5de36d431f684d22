"""``ssj draw …`` and ``ssj match …``: the two randoms — the enterprises and the officers — and their verification."""

from __future__ import annotations

from pathlib import Path

import click

from ssj.commands import (CERT, CODE, Call, act, cli, command, emit_json, err, group, out, read, report_checks,
                          team_member)
from workflow.errors import UserError


draw_group = group(cli, "draw", "随机抽取检查对象（算法 ssj-draw-v2：各参与方先各自提交承诺，公开抽取时公开各自的密钥，"
                               "见证人提供文本，任何一方都不能单独决定结果，任何人可复核）。")

COMMITMENT = click.option("--commitment", "commitments", multiple=True, metavar="参与方=HEX",
                          help="一个参与方的承诺值（其 ssj draw secret 输出的 commitment）；任务文件 [draw] parties 中每方各一个")
REVEAL = click.option("--reveal", "reveals", multiple=True, metavar="参与方=HEX",
                      help="一个参与方当场公开的密钥（其 ssj draw secret 输出的 secret）；每方各一个，须与其承诺值相符")
NORMALISED_WITNESS = click.option("--witness", required=True, metavar="文本",
                                  help="见证人在抽取现场提供的文本；规范化后使用、记录和公布（NFKC，连续空白合为一个空格，去掉首尾空白）")


@command(draw_group, "secret", json_output=True,
         help="参与方在自己的设备上生成一个密钥及其承诺值（不读写数据库）：只交出承诺值，密钥自己保管到公开抽取时再公开。")
def draw_secret_cmd(call: Call) -> None:
    import os

    from workflow.draw import new_secret

    secret, commitment = new_secret(os.urandom)
    if call.as_json:
        emit_json({"secret": secret, "commitment": commitment})
        return
    out(f"密钥 secret（32 字节，请自行妥善保管，公开抽取前不要交给任何人，包括办公室）：\n  {secret}")
    out(f"承诺值 commitment（密钥的 SHA-256，现在交给办公室，用于 ssj draw commit --commitment 参与方=承诺值）：\n  {commitment}")
    out("公开抽取时由本方当场公开密钥（ssj draw run --reveal 参与方=密钥）；本方不公开，抽取就不能进行（推迟会被记录）。")


@command(draw_group, "commit", changes=True, json_output=True, short_help="固定企业快照，记录各参与方的承诺值（公开抽取前）。",
         help="固定符合条件的企业快照（按 --now 的日期）并记录各参与方的承诺值（每方一个 --commitment）；"
              "公开抽取前不能更改，数据库中不存任何密钥。")
@CODE
@COMMITMENT
@click.option("--redraw", is_flag=True, help="重新抽取：开启新一轮（须 --reason；公开抽取后不允许）")
@click.option("--reason", metavar="理由", help="重新抽取的理由")
def draw_commit_cmd(call: Call, code: str, commitments: tuple[str, ...], redraw: bool, reason: str | None) -> None:
    from calendars import BEIJING
    from workflow.services.draws import commit_draw, commitments_given

    if redraw and reason is None:
        raise UserError("--redraw 须同时用 --reason 说明重新抽取的理由")
    if reason is not None and not redraw:
        raise UserError("--reason 只用于 --redraw")
    read(call, code, lambda uow: commitments_given(uow, commitments))  # bad input: refused, nothing recorded
    record = act(call, code, "draw_commit", lambda uow: commit_draw(
        uow, commitments=commitments, redraw_reason=reason if redraw else None))
    if call.as_json:
        emit_json({"campaign": code, "round": record.round, "algorithm": record.algorithm, "eligible": record.eligible,
                   "snapshot_sha256": record.snapshot_sha256, **_committed(record)})
        return
    out(f"抽查任务 {code} 第 {record.round} 轮抽取承诺已记录（{record.algorithm}，"
        f"{record.committed_at.astimezone(BEIJING):%Y-%m-%d %H:%M}）：")
    out(f"  符合条件的企业：{record.eligible} 户")
    _show_committed(record)
    out("请在公开抽取前公布以上各值；快照可用 ssj draw snapshot 导出。数据库中没有任何一方的密钥。")


def _committed(record) -> dict:
    """What a commit publishes besides the snapshot: each party's commitment (v2), or the office's (v1)."""
    if record.parties is None:
        return {"commitment": record.commitment}
    return {"parties": [{"party": p["party"], "commitment": p["commitment"]} for p in record.parties]}


def _show_committed(record) -> None:
    out(f"  snapshot_sha256（快照的 SHA-256）：{record.snapshot_sha256}")
    if record.parties is None:
        out(f"  commitment（密钥的 SHA-256）：{record.commitment}")
    for p in record.parties or ():
        out(f"  {p['party']} 的承诺值 commitment：{p['commitment']}")


@command(draw_group, "run", changes=True, json_output=True, short_help="公开抽取：各方公开密钥，见证人提供文本，推导并派发抽中的企业。",
         help="公开抽取：各参与方当场公开密钥（每方一个 --reveal，须与承诺值相符），见证人提供文本，推导抽中的企业并派发到各参加部门；"
              "有参与方未公开密钥时抽取推迟并记录。")
@CODE
@REVEAL
@NORMALISED_WITNESS
def draw_run_cmd(call: Call, code: str, reveals: tuple[str, ...], witness: str) -> None:
    from workflow.services.draws import chain_head, draw_document, reveals_given, run_draw

    read(call, code, lambda uow: reveals_given(uow, reveals, witness))  # a wrong reveal: refused, nothing recorded
    outcome = act(call, code, "draw_run", lambda uow: run_draw(uow, witness=witness, reveals=reveals))
    head = read(call, code, chain_head)
    if outcome.postponed:
        lines = [f"公开抽取推迟：参与方 {'、'.join(outcome.postponed)} 未公开密钥（--reveal 参与方=密钥），未抽取。",
                 f"推迟已记入审计链（draw_postponed）：{_head_text(head)}。",
                 f"各方公开密钥后可再运行 ssj draw run {code}（承诺不变）；"
                 f"如某方始终不公开，可用 ssj draw commit {code} --redraw --reason 理由 重新提交承诺。"]
        raise UserError(lines[0], lines)
    if outcome.warning:
        err(outcome.warning)
    document = draw_document(outcome.record, code)
    if call.as_json:
        emit_json(document)
        return
    _show_draw(code, outcome.record, document)
    out(f"审计链当前链头（请与抽取结果一并公布）：{_head_text(head)}")


def _head_text(head: str | None) -> str:
    return head or "（无）"


@command(draw_group, "verify",
         help="按记录的快照、各方密钥（v1：办公室的密钥）和见证文本重新推导：一致返回 0，不一致返回 1 并指出哪一项。")
@CODE
def draw_verify_cmd(call: Call, code: str) -> None:
    from workflow.services.draws import verify_draw

    report_checks(read(call, code, verify_draw))


def _show_draw(code: str, record, document: dict) -> None:
    out(f"抽查任务 {code} 第 {record.round} 轮抽取（{document['algorithm']}）：")
    for key, label in (("eligible", "符合条件（户）"), ("sample_size", "抽取（户）"),
                       ("snapshot_sha256", "快照哈希 snapshot_sha256"), ("commitment", "承诺值 commitment"),
                       ("secret", "密钥 secret"), ("witness", "见证文本 witness"), ("seed", "种子 seed")):
        if key in document:
            out(f"  {label}：{document[key]}")
    for p in document.get("parties", []):
        out(f"  参与方 {p['party']}：承诺值 {p['commitment']}，公开的密钥 {p['secret']}")
    for stratum, numbers in document.get("strata", {}).items():
        out(f"  分层 {stratum}：符合条件 {numbers['eligible']} 户，抽取 {numbers['sample_size']} 户")
    out("抽中的企业（按排序值）：")
    for n, uscc in enumerate(document["sampled"], start=1):
        out(f"  {n:>4}  {uscc}")


@command(draw_group, "snapshot", help="导出抽取快照：正是计算 snapshot_sha256 的字节（UTF-8，行间以换行分隔，末尾无换行）。")
@CODE
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件")
def draw_snapshot_cmd(call: Call, code: str, out_file: str) -> None:
    from workflow.services.draws import current_round

    _export_snapshot(read(call, code, current_round), out_file, f"抽查任务“{code}”尚未提交抽取承诺", "行")


def _export_snapshot(record, out_file: str, missing: str, unit: str) -> None:
    """A round's snapshot written as the exact bytes its ``snapshot_sha256`` hashes (``draw``/``match snapshot``)."""
    from workflow.files.atomic import write_text_atomically

    if record is None:
        raise UserError(missing)
    write_text_atomically(out_file, record.snapshot)
    out(f"已写入 {out_file}（{record.eligible} {unit}，SHA-256 {record.snapshot_sha256}）")


match_group = group(cli, "match", "随机抽取执法检查人员并组成检查组（算法 ssj-match-v2：抽查任务文件 [draw] parties 的各参与方"
                                 "各自承诺、公开抽取时公开密钥，与抽取企业同样可复核）。")


@command(match_group, "commit", changes=True, json_output=True, short_help="固定执法人员库快照，记录各参与方的承诺值（公开抽取前）。",
         help="比对确认结束后，固定执法人员库快照（在岗、执法证覆盖实地核查期、回避和近期检查关系），记录各参与方的承诺值"
              "（各方在自己的设备上运行 ssj draw secret，只把承诺值交给办公室）；不保存任何密钥。")
@CODE
@COMMITMENT
def match_commit_cmd(call: Call, code: str, commitments: tuple[str, ...]) -> None:
    from workflow.services.officer_draw import commit_match, commitments_checked

    read(call, code, lambda uow: commitments_checked(uow, commitments))  # bad input: refused, nothing recorded
    record = act(call, code, "match_commit", lambda uow: commit_match(uow, commitments=commitments))
    if call.as_json:
        emit_json({"campaign": code, "algorithm": record.algorithm, "officers": record.eligible,
                   "snapshot_sha256": record.snapshot_sha256, **_committed(record)})
        return
    out(f"抽查任务 {code} 执法人员抽取承诺已记录（{record.algorithm}）：人员库 {record.eligible} 人")
    _show_committed(record)
    if record.parties is not None:
        out(f"请在公开抽取前公布以上各值；公开抽取时各参与方当场公开密钥：ssj match run {code} "
            + " ".join(f"--reveal {p['party']}=密钥" for p in record.parties) + " --witness 见证文本")


def _show_teams(code: str, record, document: dict) -> None:
    out(f"抽查任务 {code} 执法人员抽取（{document['algorithm']}）：")
    out(f"  快照哈希 snapshot_sha256：{document['snapshot_sha256']}")
    for p in document.get("parties", ()):
        out(f"  {p['party']}：承诺值 {p['commitment']}，密钥 {p['secret']}")
    out(f"  见证文本 witness：{document['witness']}")
    out(f"  种子 seed：{document['seed']}")
    for uscc, team in document["teams"].items():
        out(f"  {uscc}：{'、'.join(f'{cert}（{dept}）' for cert, dept in team)}")


@command(match_group, "verify", help="按记录的快照、各参与方密钥和见证文本重新推导：一致返回 0，不一致返回 1 并指出哪一项。")
@CODE
def match_verify_cmd(call: Call, code: str) -> None:
    from workflow.services.officer_draw import verify_match

    report_checks(read(call, code, verify_match))


@command(match_group, "run", changes=True, json_output=True, short_help="公开抽取执法人员：各参与方公开密钥，见证人提供文本，组成检查组。",
         help="公开抽取执法人员：各参与方当场公开密钥（须与承诺值相符），见证文本规范化后使用（NFKC，空白合并为一个空格，去掉首尾空白），"
              "按规则为每户企业组成检查组；规则无法满足时指出企业、部门和原因，不作记录；有参与方未公开密钥则推迟并记录。")
@CODE
@REVEAL
@NORMALISED_WITNESS
def match_run_cmd(call: Call, code: str, reveals: tuple[str, ...], witness: str) -> None:
    from workflow.services.officer_draw import Postponed, reveals_checked, run_match, teams_document

    read(call, code, lambda uow: reveals_checked(uow, reveals, witness))  # bad input: refused, nothing recorded
    outcome = act(call, code, "match_run", lambda uow: run_match(uow, reveals=reveals, witness=witness))
    if isinstance(outcome, Postponed):
        raise UserError(outcome.message)
    if outcome.warning:
        err(outcome.warning)
    document = teams_document(outcome.record, code)
    if call.as_json:
        emit_json(document)
    else:
        _show_teams(code, outcome.record, document)


@command(match_group, "snapshot", help="导出执法人员库快照：正是计算 snapshot_sha256 的字节（UTF-8，行间以换行分隔，末尾无换行）。")
@CODE
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件")
def match_snapshot_cmd(call: Call, code: str, out_file: str) -> None:
    from workflow.services.officer_draw import officer_round

    _export_snapshot(read(call, code, officer_round), out_file, f"抽查任务“{code}”尚未提交执法人员抽取承诺", "名执法人员")


@command(match_group, "replace", changes=True, help="更换一名不能到位的执法人员：按同样规则从剩余人员中抽取替补（同一部门），记录理由。")
@team_member("更换理由（如：病假）")
def match_replace_cmd(call: Call, code: str, uscc: str, cert: str, reason: str) -> None:
    from workflow.services.officer_draw import replace_member

    member = act(call, code, "match_replace", lambda uow: replace_member(uow, uscc, cert, reason=reason), uscc=uscc)
    out(f"企业 {uscc} 检查组：{cert} 由 {member.certificate_no}（{member.department}）替换。")
    out(f"  {member.why}")


@command(match_group, "helper", changes=True,
         help="为一户企业的检查组添加专业人员协助（专业人员协助：不计入检查人数、不计入人次）。")
@team_member("需要的专业（如：特种设备检验）")
def match_helper_cmd(call: Call, code: str, uscc: str, cert: str, reason: str) -> None:
    from workflow.services.officer_draw import attach_specialist

    act(call, code, "specialist", lambda uow: attach_specialist(uow, uscc, cert, reason=reason), uscc=uscc)
    out(f"已为企业 {uscc} 的检查组添加专业人员 {cert}（不计入检查人数和人次）。")


@command(cli, "forms", changes=True,
         help="安排实地核查（日期、分组和车辆），生成每户企业的一企一表（XLSX 和 DOCX）和实地核查安排表，派发给检查人员。")
@CODE
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def forms_cmd(call: Call, code: str, out_dir: str) -> None:
    from workflow.services.forms import generate_forms

    report = act(call, code, "forms", generate_forms, files_dir=Path(out_dir))
    out(f"已生成一企一表 {report.forms} 份（{Path(out_dir) / '一企一表'}，XLSX 和 DOCX），"
        f"实地核查安排：{report.schedule}")
    out(f"已分派 {report.assigned.moved} 户；新派发执法人员确认任务 {report.acknowledgements} 项。")
    for uscc, lines in report.assigned.refused:
        err(f"企业 {uscc} 未能分派：{'；'.join(line.strip() for line in lines[1:])}")


@command(cli, "ack", changes=True, for_party=True, help="执法人员确认收到并知悉其一企一表（本人或办公室记录）。")
@CODE
@CERT
def ack_cmd(call: Call, code: str, cert: str) -> None:
    from workflow.services.forms import acknowledge

    late = act(call, code, "acknowledge", lambda uow: acknowledge(uow, cert))
    out(f"已记录执法人员 {cert} 确认一企一表" + ("（已逾期）" if late else "") + "。")
