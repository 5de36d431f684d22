"""``ssj campaign check|create|status`` and ``ssj withdraw``: the campaign file, its progress, an enterprise taken out."""

from __future__ import annotations

from pathlib import Path

import click

from ssj.commands import CODE, USCC, Call, act, cli, command, emit_json, group, out, read
from workflow.errors import UserError
from workflow.simulation import SIMULATION_NOTE


campaign_group = group(cli, "campaign", "抽查任务：检查方案文件、创建、查看进度。")


def read_campaign_file(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{file}: 文件不存在") from None
    except UnicodeDecodeError:
        raise UserError(f"{file}: 方案文件应为 UTF-8 编码的 TOML 文件") from None
    except OSError as exc:
        raise UserError(f"{file}: 无法读取：{exc.strerror}") from None


def _rule(spec) -> str:
    """How the file sets a deadline that runs from an event or spans days, after its date: "，即派发后2个工作日内"."""
    from workflow.deadline_words import day_words

    if spec.form == "within":
        return f"，即{spec.describe()}"
    if spec.form == "window":
        return f"，自{day_words(spec.start)}起"
    return ""


@command(campaign_group, "check", json_output=True,
         help="检查抽查方案文件（TOML）：结构、取值，并按工作日历推算每个期限，报告不一致之处。不访问数据库。")
@click.argument("file", metavar="方案文件")
def campaign_check_cmd(call: Call, file: str) -> None:
    from workflow.campaign_plan import DEADLINE_LABELS
    from workflow.deadline_words import deadline_words
    from workflow.plan_checker import ERROR, check_file, deadline_line

    checked = check_file(read_campaign_file(file), file)
    plan, planned, findings, unresolved = checked.plan, checked.planned, checked.findings, checked.unresolved
    failed = any(f.severity == ERROR for f in findings)
    if call.as_json:
        emit_json({
            "campaign": plan.code,
            "ok": not failed,
            "deadlines": {n: {"due": p.at.isoformat(), "last_day": p.last_day.isoformat(),
                              "provisional": p.provisional, "label": DEADLINE_LABELS.get(n, n),
                              "words": deadline_words(p.at, plan.tz, provisional=p.provisional)}
                          for n, p in planned.items()},
            "unresolved": {n: {"missing_year": u.year, "about": u.about} for n, u in unresolved.items()},
            "findings": [{"severity": f.severity, "subject": f.subject, "topic": f.topic, "message": f.message}
                         for f in findings],
        })
    else:
        out(f"{file}: 方案“{plan.name}”（{plan.code}）")
        out("期限（按计划推算）：")
        for name, spec in plan.deadlines.items():
            if name in unresolved:
                out(f"  {deadline_line(name)}：{unresolved[name].line()}{_rule(spec)}")
            elif name in planned:
                p = planned[name]
                out(f"  {deadline_line(name)}：{deadline_words(p.at, plan.tz, provisional=p.provisional)}{_rule(spec)}")
        if findings:
            out(f"发现 {len(findings)} 个问题：")
            for f in findings:
                out(f"  {f.line()}")
        else:
            out("未发现问题。")
    if failed:
        raise click.exceptions.Exit(1)


@command(campaign_group, "create", changes=True, help="按方案文件创建抽查任务（核对部门和抽查事项是否在名录中）。")
@click.argument("file", metavar="方案文件")
def campaign_create_cmd(call: Call, file: str) -> None:
    from workflow.services.campaigns import create_campaign

    office = call.uow()  # the database first: an uninitialised one is said before the file is read
    plan = create_campaign(office, read_campaign_file(file), file)
    out(f"已创建抽查任务“{plan.name}”（{plan.code}），参加部门 {len(plan.departments)} 个，"
        f"抽查事项 {sum(len(d.items) for d in plan.departments)} 项。")


@command(campaign_group, "status", json_output=True, help="查看抽查任务的方案和进度。")
@CODE
def campaign_status_cmd(call: Call, code: str) -> None:
    from workflow.inspection import STATE_LABELS
    from workflow.plan_checker import deadline_line
    from workflow.services.campaigns import campaign_status
    from workflow.services.outbox import problem_summary

    status = read(call, code, campaign_status)
    if call.as_json:
        emit_json(status)
        return
    if status["simulation"]:
        out(SIMULATION_NOTE)
    out(f"{status['name']}（{status['code']}）")
    out(f"  文号：{status['document_no']}    组织：{status['office']}")
    out(f"  时间：{status['window'][0]} 至 {status['window'][1]}    抽取：{status['draw_at']}")
    out("  参加部门：")
    for d in status["departments"]:
        lead = "（牵头）" if d["code"] == status["lead_department"] else ""
        out(f"    {d['code']} {d['name']}{lead}：{'、'.join(d['items'])}")
    out("  期限：")
    for name, text in status["deadlines"].items():
        out(f"    {deadline_line(name)}：{text}")
    draw = status["draw"]
    if draw:
        line = (f"  抽取：第 {draw['round']} 轮，承诺于 {draw['committed_at'][:16].replace('T', ' ')}，"
                f"符合条件 {draw['eligible']} 户")
        line += (f"，已于 {draw['run_at'][:16].replace('T', ' ')} 公开抽取 {draw['sample_size']} 户" if draw["run_at"]
                 else "，尚未公开抽取")
        out(line)
        for r in draw["redraws"]:
            out(f"  重新抽取：第 {r['round']} 轮（{r['at'][:16].replace('T', ' ')}），理由：{r['reason']}")
    counts = status["inspections"]
    if any(counts.values()):
        out("  检查进度：" + "  ".join(f"{STATE_LABELS[k]} {v}" for k, v in counts.items()))
    if summary := problem_summary(status["mail_problems"]):
        out(f"  邮件：{summary}")
        for m in status["mail_problems"]["messages"]:
            out(f"    {m['state']}：{m['reason']}")
    if status["mailbox"]:
        out("  办公室邮箱：")
        for line in status["mailbox"]:
            out(f"    {line}")
    s = status["sampling"]
    if s["eligible_now"] is not None:  # before the draw (after it, the draw's line above has its numbers)
        out(f"  当前名录中符合抽取条件的企业 {s['eligible_now']} 户，按 {s['ratio']}（{s['rounding']}）应抽取 "
            f"{s['expected_sample_size']} 户。")


@command(cli, "withdraw", changes=True, help="撤出一个抽中的企业（已抽取、已确认或已分派时），须说明理由。")
@CODE
@USCC
@click.option("--reason", required=True, metavar="理由", help="撤出理由（如：企业已注销；没有部门检查该企业）")
def withdraw_cmd(call: Call, code: str, uscc: str, reason: str) -> None:
    from workflow.inspection import STATE_LABELS
    from workflow.services.inspections import withdraw

    moved = act(call, code, "withdraw", lambda uow: withdraw(uow, uscc, reason=reason), uscc=uscc)
    out(f"已撤出企业 {uscc}（原状态：{STATE_LABELS[moved.source]}），理由：{reason.strip()}")
