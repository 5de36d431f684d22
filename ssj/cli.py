"""``ssj``: the command line, a thin shell over the services in ``workflow``.

Conventions (FORMATS.md): Chinese messages; ``--now`` on every command and
``--user`` on every command that changes something; results on stdout, messages
on stderr; ``--json`` prints exactly one JSON document; exit 0 success, 2 bad
input or a forbidden action, 1 a failed check or an internal failure.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
import traceback
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from ssj import zh_click
from workflow.errors import UserError
from workflow.persistence.database import DatabaseNotReady, database_url, first_line, ready_engine, unit_of_work

zh_click.install()

BEIJING = ZoneInfo("Asia/Shanghai")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# --- the shared options ----------------------------------------------------


def parse_now(text: str | None, environ: dict[str, str] | None = None) -> datetime:
    """``--now``, else ``$SSJ_NOW``, else the wall clock; no offset means Beijing time."""
    env = os.environ if environ is None else environ
    text = text or env.get("SSJ_NOW") or None
    if text is None:
        return datetime.now(BEIJING)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"“{text}”不是 ISO 8601 时间（如 2019-11-27T09:00 或 2019-11-27T09:00+08:00）",
                                 param_hint="--now") from None
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


def resolve_user(user: str | None) -> str:
    from workflow.identity import SYSTEM

    who = (user or os.environ.get("SSJ_USER") or getpass.getuser()).strip()
    if who.lower() == SYSTEM:
        raise click.BadParameter(f"“{who}”是系统自身（定时推进）使用的身份，不能作为操作人", param_hint="--user")
    return who


@dataclass
class Call:
    """What every command receives: the instant, the acting identity, the database."""

    now: datetime
    user: str
    url: str
    as_json: bool = False

    def engine(self):
        return ready_engine(self.url)


def command(group: click.Group, name: str, *, changes: bool = False, json_output: bool = False, **kwargs):
    """Register a command with the FORMATS.md options and pass it a ``Call``."""

    def decorate(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def wrapper(now: str | None, user: str | None = None, as_json: bool = False, **params):
            call = Call(now=parse_now(now), user=resolve_user(user), url=database_url(), as_json=as_json)
            return fn(call, **params)

        decorated = click.option("--now", metavar="ISO8601",
                                 help="当前时间（默认 $SSJ_NOW，否则为系统时钟；不带时区按北京时间）")(wrapper)
        if changes:
            decorated = click.option("--user", metavar="身份",
                                     help="操作人：电子邮箱或执法证号（默认 $SSJ_USER，否则为操作系统用户）")(decorated)
        if json_output:
            decorated = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果（标准输出只有一个 JSON 文档）")(decorated)
        return group.command(name, context_settings=CONTEXT, **kwargs)(decorated)

    return decorate


def out(text: str = "") -> None:
    click.echo(text)


def err(text: str) -> None:
    click.echo(text, err=True)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


# --- the commands -----------------------------------------------------------


@click.group(context_settings=CONTEXT, help="双随机、一公开 跨部门联合抽查：抽取、派发、期限、结果、公示。")
def cli() -> None:
    pass


@command(cli, "init", changes=True)
def init_cmd(call: Call) -> None:
    """创建数据库，或将其升级到当前版本。"""
    from workflow.persistence.database import make_engine, upgrade

    engine = make_engine(call.url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        out(f"数据库已是最新版本（{after}）。")
    elif before is None:
        out(f"数据库已创建（版本 {after}）。")
    else:
        out(f"数据库已从版本 {before} 升级到 {after}。")


@cli.group("import", context_settings=CONTEXT, help="导入名录：部门、执法检查人员、企业、抽查事项清单（CSV 或 XLSX）。")
def import_group() -> None:
    pass


def _import_command(kind: str, label: str) -> None:
    @command(import_group, kind, changes=True, json_output=True, help=f"导入{label}（.csv 或 .xlsx 的第一个工作表）。")
    @click.argument("file", metavar="文件")
    @click.option("--full", is_flag=True, help="此文件是完整导出：文件中没有的条目标记为“不在最新名录”，不再参与抽取。")
    def run_import(call: Call, file: str, full: bool) -> None:
        from workflow.services.directory_import import import_directory

        engine = call.engine()
        try:
            report = import_directory(engine, kind, file, full=full, now=call.now, user=call.user)
        finally:
            engine.dispose()
        for warning in report.warnings:
            err(warning)
        if call.as_json:
            emit_json({"kind": kind, "file": file, "rows": report.rows, "inserted": report.inserted,
                       "updated": report.updated, "marked_not_latest": report.marked_not_latest})
            return
        line = f"已导入{label}：{file} 共 {report.rows} 行，新增 {report.inserted}，更新 {report.updated}"
        if full:
            line += f"，标记“不在最新名录” {report.marked_not_latest}"
        out(line + "。")


for _kind, _label in (("departments", "部门名录"), ("officers", "执法检查人员名录"),
                      ("enterprises", "抽查对象名录（企业）"), ("items", "随机抽查事项清单")):
    _import_command(_kind, _label)


@command(cli, "example-data", help="生成示例辖区（鹿泉区）的四个名录文件：departments.csv、officers.csv、items.csv、enterprises.csv。")
@click.option("--enterprises", "n", type=click.IntRange(1, 10_000_000), default=30_000, show_default=True,
              help="企业数量")
@click.option("--seed", type=int, default=2019, show_default=True, help="随机种子（同一种子生成相同的数据）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def example_data_cmd(call: Call, n: int, seed: int, out_dir: str) -> None:
    from ssj.example_district import write_example_data

    paths = write_example_data(Path(out_dir), n, seed)
    for name, path in paths.items():
        out(f"已写入 {path}")


@cli.group("campaign", context_settings=CONTEXT, help="抽查任务：检查方案文件、创建、查看进度。")
def campaign_group() -> None:
    pass


def _read_campaign_file(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{file}: 文件不存在") from None
    except UnicodeDecodeError:
        raise UserError(f"{file}: 方案文件应为 UTF-8 编码的 TOML 文件") from None
    except OSError as exc:
        raise UserError(f"{file}: 无法读取：{exc.strerror}") from None


@command(campaign_group, "check", json_output=True,
         help="检查抽查方案文件（TOML）：结构、取值，并按工作日历推算每个期限，报告不一致之处。不访问数据库。")
@click.argument("file", metavar="方案文件")
def campaign_check_cmd(call: Call, file: str) -> None:
    from calendars import CalendarCoverageError, CalendarFileError
    from workflow.campaign_file import CampaignFileError, parse_campaign
    from workflow.plan_checker import ERROR, check_plan, plan_calendar, planned_deadlines

    source = _read_campaign_file(file)
    try:
        plan = parse_campaign(source)
    except CampaignFileError as exc:
        raise UserError(exc.lines(file)[0], exc.lines(file)) from None
    try:
        calendar = plan_calendar(plan, Path(file).resolve().parent)
    except CalendarFileError as exc:
        raise UserError(f"{file}: campaign.calendar_files: {exc}") from None
    findings = check_plan(plan, calendar)
    failed = any(f.severity == ERROR for f in findings)
    try:
        planned = planned_deadlines(plan, calendar)
    except CalendarCoverageError:  # already reported as a finding
        planned = {}
    if call.as_json:
        emit_json({
            "campaign": plan.code,
            "ok": not failed,
            "deadlines": {n: {"due": p.at.isoformat(), "last_day": p.last_day.isoformat(),
                              "provisional": p.provisional} for n, p in planned.items()},
            "findings": [{"severity": f.severity, "subject": f.subject, "message": f.message} for f in findings],
        })
    else:
        out(f"{file}: 方案“{plan.name}”（{plan.code}）")
        out("期限（按计划推算，北京时间）：")
        for name, p in planned.items():
            mark = "（暂定）" if p.provisional else ""
            out(f"  {name}: {plan.deadlines[name].describe()} → 截止 {p.last_day:%Y-%m-%d}"
                f"{' ' + p.at.strftime('%H:%M') if p.at.time() != time(0) else ''}{mark}")
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

    engine = call.engine()
    try:
        source = _read_campaign_file(file)
        with unit_of_work(engine) as session:
            plan = create_campaign(session, source, file, now=call.now, user=call.user)
    finally:
        engine.dispose()
    out(f"已创建抽查任务“{plan.name}”（{plan.code}），参加部门 {len(plan.departments)} 个，"
        f"抽查事项 {sum(len(d.items) for d in plan.departments)} 项。")


@command(campaign_group, "status", json_output=True, help="查看抽查任务的方案和进度。")
@click.argument("code", metavar="任务编号")
def campaign_status_cmd(call: Call, code: str) -> None:
    from workflow.services.campaigns import campaign_status

    engine = call.engine()
    try:
        with unit_of_work(engine) as session:
            status = campaign_status(session, code)
    finally:
        engine.dispose()
    if call.as_json:
        emit_json(status)
        return
    out(f"{status['name']}（{status['code']}）")
    out(f"  文号：{status['document_no']}    组织：{status['office']}")
    out(f"  时间：{status['window'][0]} 至 {status['window'][1]}    抽取：{status['draw_at']}")
    out("  参加部门：")
    for d in status["departments"]:
        lead = "（牵头）" if d["code"] == status["lead_department"] else ""
        out(f"    {d['code']} {d['name']}{lead}：{'、'.join(d['items'])}")
    out("  期限：")
    for name, text in status["deadlines"].items():
        out(f"    {name}: {text}")
    from workflow.inspection import STATE_LABELS

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
    s = status["sampling"]
    out(f"  当前名录中符合抽取条件的企业 {s['eligible_now']} 户，按 {s['ratio']}（{s['rounding']}）应抽取 "
        f"{s['expected_sample_size']} 户。")


def _secret(text: str | None) -> bytes | None:
    """``--secret``: exactly 64 hex digits, or none (then a random one is drawn)."""
    from workflow.draw import BadSecret, parse_secret

    try:
        return parse_secret(text) if text is not None else None
    except BadSecret as exc:
        raise UserError(f"--secret: {exc}") from None


def _act(call: Call, code: str, what: str, action: Callable[[Any, Any], Any], uscc: str | None = None) -> Any:
    """A campaign action ``action(conn, plan)`` in one transaction; a refusal is audited, then reported."""
    from workflow.services.inspections import attempt

    return _with_plan(call, code, lambda engine, plan: attempt(
        engine, lambda conn: action(conn, plan), plan=plan, uscc=uscc, what=what, now=call.now, actor=call.user))


def _with_plan(call: Call, code: str, action: Callable[[Any, Any], Any]) -> Any:
    """Open the database, load the campaign's plan, run ``action(engine, plan)``."""
    from workflow.services.campaigns import plan_of

    engine = call.engine()
    try:
        with engine.connect() as conn:
            plan = plan_of(conn, code)
        return action(engine, plan)
    finally:
        engine.dispose()


@command(cli, "withdraw", changes=True, help="撤出一个抽中的企业（已抽取、已确认或已分派时），须说明理由。")
@click.argument("code", metavar="任务编号")
@click.argument("uscc", metavar="统一社会信用代码")
@click.option("--reason", required=True, metavar="理由", help="撤出理由（如：企业已注销；没有部门检查该企业）")
def withdraw_cmd(call: Call, code: str, uscc: str, reason: str) -> None:
    from workflow.inspection import STATE_LABELS
    from workflow.services.inspections import move
    from workflow.uscc import normalise

    uscc = normalise(uscc)
    moved = _act(call, code, "withdraw", lambda conn, plan: move(conn, plan, uscc, "withdraw", now=call.now,
                                                                  actor=call.user, reason=reason), uscc)
    out(f"已撤出企业 {uscc}（原状态：{STATE_LABELS[moved.source]}），理由：{reason.strip()}")


@cli.group("draw", context_settings=CONTEXT,
           help="随机抽取检查对象（算法 ssj-draw-v1：先公布承诺，公开抽取时由见证人提供文本，任何人可复核）。")
def draw_group() -> None:
    pass


@command(draw_group, "commit", changes=True, json_output=True,
         help="固定符合条件的企业快照（按 --now 的日期）并承诺一个密钥：公布承诺值和快照哈希，公开抽取前不能更改。")
@click.argument("code", metavar="任务编号")
@click.option("--secret", metavar="HEX", help="指定密钥（恰好 64 位十六进制数字）；不指定则随机生成")
@click.option("--redraw", is_flag=True, help="重新抽取：开启新一轮（须 --reason；公开抽取后不允许）")
@click.option("--reason", metavar="理由", help="重新抽取的理由")
def draw_commit_cmd(call: Call, code: str, secret: str | None, redraw: bool, reason: str | None) -> None:
    from workflow.services.draws import commit_draw

    if redraw and not (reason or "").strip():
        raise UserError("--redraw 须同时用 --reason 说明重新抽取的理由")
    if reason and not redraw:
        raise UserError("--reason 只用于 --redraw")
    secret_bytes = _secret(secret)

    record = _act(call, code, "draw_commit", lambda conn, plan: commit_draw(
        conn, plan, now=call.now, actor=call.user, secret=secret_bytes, redraw_reason=reason if redraw else None))
    if call.as_json:
        emit_json({"campaign": code, "round": record.round, "eligible": record.eligible,
                   "commitment": record.commitment, "snapshot_sha256": record.snapshot_sha256})
        return
    out(f"抽查任务 {code} 第 {record.round} 轮抽取承诺已记录（{record.committed_at.astimezone(BEIJING):%Y-%m-%d %H:%M}）：")
    out(f"  符合条件的企业：{record.eligible} 户")
    out(f"  commitment（密钥的 SHA-256）：{record.commitment}")
    out(f"  snapshot_sha256（快照的 SHA-256）：{record.snapshot_sha256}")
    out("请在公开抽取前公布以上两个值；快照可用 ssj draw snapshot 导出。")


@command(draw_group, "run", changes=True, json_output=True,
         help="公开抽取：用见证人提供的文本（原样使用）揭示密钥并推导抽中的企业，派发到各参加部门。")
@click.argument("code", metavar="任务编号")
@click.option("--witness", required=True, metavar="文本", help="见证人在抽取现场提供的文本，原样使用")
def draw_run_cmd(call: Call, code: str, witness: str) -> None:
    from workflow.services.campaigns import campaign_calendar
    from workflow.files.location import campaign_folder
    from workflow.services.draws import run_draw

    outcome = _act(call, code, "draw_run", lambda conn, plan: run_draw(
        conn, plan, witness=witness, now=call.now, actor=call.user, calendar=campaign_calendar(plan),
        files_dir=campaign_folder(code)))
    if outcome.warning:
        err(outcome.warning)
    document = outcome.record.document(code)
    if call.as_json:
        emit_json(document)
        return
    out(f"抽查任务 {code} 第 {outcome.record.round} 轮抽取（{document['algorithm']}）：")
    for key, label in (("eligible", "符合条件（户）"), ("sample_size", "抽取（户）"),
                       ("snapshot_sha256", "快照哈希 snapshot_sha256"), ("commitment", "承诺值 commitment"),
                       ("secret", "密钥 secret"), ("witness", "见证文本 witness"), ("seed", "种子 seed")):
        out(f"  {label}：{document[key]}")
    for stratum, numbers in document.get("strata", {}).items():
        out(f"  分层 {stratum}：符合条件 {numbers['eligible']} 户，抽取 {numbers['sample_size']} 户")
    out("抽中的企业（按排序值）：")
    for n, uscc in enumerate(document["sampled"], start=1):
        out(f"  {n:>4}  {uscc}")


@command(draw_group, "verify", help="按记录的快照、密钥和见证文本重新推导抽取结果：一致返回 0，不一致返回 1 并指出哪一项。")
@click.argument("code", metavar="任务编号")
def draw_verify_cmd(call: Call, code: str) -> None:
    from workflow.services.draws import verify_draw

    def verify(engine, plan):
        with engine.connect() as conn:
            return verify_draw(conn, plan)

    _report_checks(_with_plan(call, code, verify))


@command(draw_group, "snapshot", help="导出抽取快照：正是计算 snapshot_sha256 的字节（UTF-8，行间以换行分隔，末尾无换行）。")
@click.argument("code", metavar="任务编号")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件")
def draw_snapshot_cmd(call: Call, code: str, out_file: str) -> None:
    from workflow.services.draws import current_draw

    def read(engine, plan):
        with engine.connect() as conn:
            return current_draw(conn, plan.code)

    record = _with_plan(call, code, read)
    if record is None:
        raise UserError(f"抽查任务“{code}”尚未提交抽取承诺")
    Path(out_file).write_bytes(record.snapshot.encode("utf-8"))
    out(f"已写入 {out_file}（{record.eligible} 行，SHA-256 {record.snapshot_sha256}）")


@cli.group("match", context_settings=CONTEXT,
           help="随机抽取执法检查人员并组成检查组（算法 ssj-match-v1，与抽取企业同样先承诺后公开、可复核）。")
def match_group() -> None:
    pass


@command(match_group, "commit", changes=True, json_output=True,
         help="比对确认结束后，固定执法人员库快照（在岗、执法证覆盖实地核查期、回避和近期检查关系）并承诺一个新密钥。")
@click.argument("code", metavar="任务编号")
@click.option("--secret", metavar="HEX", help="指定密钥（恰好 64 位十六进制数字）；不指定则随机生成")
def match_commit_cmd(call: Call, code: str, secret: str | None) -> None:
    from workflow.services.officer_draw import commit_match

    secret_bytes = _secret(secret)

    record = _act(call, code, "match_commit", lambda conn, plan: commit_match(
        conn, plan, now=call.now, actor=call.user, secret=secret_bytes))
    if call.as_json:
        emit_json({"campaign": code, "officers": record.eligible, "commitment": record.commitment,
                   "snapshot_sha256": record.snapshot_sha256})
        return
    out(f"抽查任务 {code} 执法人员抽取承诺已记录：人员库 {record.eligible} 人")
    out(f"  commitment（密钥的 SHA-256）：{record.commitment}")
    out(f"  snapshot_sha256（快照的 SHA-256）：{record.snapshot_sha256}")


@command(match_group, "run", changes=True, json_output=True,
         help="公开抽取执法人员：用见证文本揭示密钥，按规则为每户企业组成检查组；规则无法满足时指出企业、部门和原因，不作记录。")
@click.argument("code", metavar="任务编号")
@click.option("--witness", required=True, metavar="文本", help="见证人在抽取现场提供的文本，原样使用")
def match_run_cmd(call: Call, code: str, witness: str) -> None:
    from workflow.services.officer_draw import run_match, teams_document

    outcome = _act(call, code, "match_run", lambda conn, plan: run_match(
        conn, plan, witness=witness, now=call.now, actor=call.user))
    if outcome.warning:
        err(outcome.warning)
    document = teams_document(outcome.record, code)
    if call.as_json:
        emit_json(document)
        return
    out(f"抽查任务 {code} 执法人员抽取（{document['algorithm']}）：seed {document['seed']}")
    for uscc, team in document["teams"].items():
        out(f"  {uscc}：{'、'.join(f'{cert}（{dept}）' for cert, dept in team)}")


@command(match_group, "verify", help="按记录的快照、密钥和见证文本重新推导检查组：一致返回 0，不一致返回 1 并指出哪一项。")
@click.argument("code", metavar="任务编号")
def match_verify_cmd(call: Call, code: str) -> None:
    from workflow.services.officer_draw import verify_match

    def verify(engine, plan):
        with engine.connect() as conn:
            return verify_match(conn, plan)

    _report_checks(_with_plan(call, code, verify))


@command(match_group, "replace", changes=True,
         help="更换一名不能到位的执法人员：按同样规则从剩余人员中抽取替补（同一部门），记录理由。")
@click.argument("code", metavar="任务编号")
@click.argument("uscc", metavar="统一社会信用代码")
@click.argument("cert", metavar="执法证号")
@click.option("--reason", required=True, metavar="理由", help="更换理由（如：病假）")
def match_replace_cmd(call: Call, code: str, uscc: str, cert: str, reason: str) -> None:
    from workflow.services.officer_draw import replace_member
    from workflow.uscc import normalise

    uscc = normalise(uscc)
    member = _act(call, code, "match_replace", lambda conn, plan: replace_member(
        conn, plan, uscc, cert, reason=reason, now=call.now, actor=call.user), uscc)
    out(f"企业 {uscc} 检查组：{cert} 由 {member.certificate_no}（{member.department}）替换。")
    out(f"  {member.why}")


@command(cli, "forms", changes=True,
         help="安排实地核查（日期、分组和车辆），生成每户企业的一企一表（XLSX 和 DOCX）和实地核查安排表，派发给检查人员。")
@click.argument("code", metavar="任务编号")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def forms_cmd(call: Call, code: str, out_dir: str) -> None:
    from workflow.services.campaigns import campaign_calendar
    from workflow.services.forms import generate_forms
    from workflow.services.inspections import refusals_audited

    def generate(engine, plan):
        with refusals_audited(engine, plan=plan, uscc=None, what="forms", now=call.now, actor=call.user):
            return generate_forms(engine, plan, Path(out_dir), now=call.now, actor=call.user,
                                  calendar=campaign_calendar(plan))

    report = _with_plan(call, code, generate)
    out(f"已生成一企一表 {report.forms} 份（{Path(out_dir) / '一企一表'}，XLSX 和 DOCX），"
        f"实地核查安排：{report.schedule}")
    out(f"已分派 {report.assigned.moved} 户；新派发执法人员确认任务 {report.acknowledgements} 项。")
    for uscc, lines in report.assigned.refused:
        err(f"企业 {uscc} 未能分派：{'；'.join(line.strip() for line in lines[1:])}")


@command(match_group, "helper", changes=True,
         help="为一户企业的检查组添加专业人员协助（专业人员协助：不计入检查人数、不计入人次）。")
@click.argument("code", metavar="任务编号")
@click.argument("uscc", metavar="统一社会信用代码")
@click.argument("cert", metavar="执法证号")
@click.option("--reason", required=True, metavar="理由", help="需要的专业（如：特种设备检验）")
def match_helper_cmd(call: Call, code: str, uscc: str, cert: str, reason: str) -> None:
    from workflow.services.officer_draw import attach_specialist
    from workflow.uscc import normalise

    uscc = normalise(uscc)
    _act(call, code, "specialist", lambda conn, plan: attach_specialist(
        conn, plan, uscc, cert, reason=reason, now=call.now, actor=call.user), uscc)
    out(f"已为企业 {uscc} 的检查组添加专业人员 {cert}（不计入检查人数和人次）。")


@command(cli, "ack", changes=True, help="执法人员确认收到并知悉其一企一表（本人或办公室记录）。")
@click.argument("code", metavar="任务编号")
@click.argument("cert", metavar="执法证号")
def ack_cmd(call: Call, code: str, cert: str) -> None:
    from workflow.services.forms import acknowledge

    late = _act(call, code, "acknowledge", lambda conn, plan: acknowledge(conn, plan, cert, now=call.now,
                                                                          actor=call.user))
    out(f"已记录执法人员 {cert} 确认一企一表" + ("（已逾期）" if late else "") + "。")


@cli.group("results", context_settings=CONTEXT, help="实地核查和检查结果回填：逐项录入，或导入填好的一企一表（XLSX）。")
def results_group() -> None:
    pass


def _date_option(text: str) -> date:
    from workflow.directory import Invalid, parse_date

    try:
        return parse_date(text)
    except Invalid as exc:
        raise UserError(f"--date: {exc}") from None


@command(results_group, "visit", changes=True,
         help="记录一户企业的联合实地核查（一次性完成）：日期、到场检查人员、法定代表人签字或盖章（或拒绝签字、无人签字及说明）。")
@click.argument("code", metavar="任务编号")
@click.argument("uscc", metavar="统一社会信用代码")
@click.option("--date", "day", required=True, metavar="日期", help="核查日期（如 2019-12-10）")
@click.option("--officers", required=True, metavar="执法证号,…", help="到场的检查人员执法证号，逗号分隔（至少 2 人）")
@click.option("--signature", required=True, type=click.Choice(["签字", "盖章", "拒绝签字", "无人签字"]),
              help="企业签字情况")
@click.option("--note", default="", metavar="说明", help="情况说明（拒绝签字、无人签字时必填）")
def results_visit_cmd(call: Call, code: str, uscc: str, day: str, officers: str, signature: str, note: str) -> None:
    import re

    from workflow.services.campaigns import campaign_calendar
    from workflow.services.results import record_visit
    from workflow.uscc import normalise

    uscc, visit_day = normalise(uscc), _date_option(day)
    certs = [c for c in re.split(r"[\s,，、]+", officers) if c]
    _act(call, code, "visit", lambda conn, plan: record_visit(
        conn, plan, uscc, day=visit_day, officers=certs, signature=signature, note=note, now=call.now,
        actor=call.user, calendar=campaign_calendar(plan)), uscc)
    out(f"已记录企业 {uscc} 的实地核查（{visit_day}，{signature}），状态：已检查；请在回填期限内回填检查结果。")


@command(results_group, "record", changes=True, help="回填一户企业一个抽查事项的检查结果（检查结果代码见 GLOSSARY：1、E、A+B/C/6/D/3/4/5、8、F、7、9）。")
@click.argument("code", metavar="任务编号")
@click.argument("uscc", metavar="统一社会信用代码")
@click.option("--item", required=True, metavar="事项编码", help="抽查事项编码")
@click.option("--result", "codes", required=True, metavar="代码", help="检查结果代码，如 1 或 A,B")
@click.option("--finding", default="", metavar="文本", help="发现问题（有问题时必填）")
@click.option("--method", default="", metavar="文本", help="检查方式（如 实地核查、信息比对）")
@click.option("--handling", type=int, multiple=True, metavar="N", help="后续处置代码 1–7，可多次给出")
@click.option("--handling-note", default="", metavar="文本", help="处置说明（后续处置 7 时必填）")
@click.option("--questions", type=click.IntRange(0, None), default=0, metavar="N", help="现场解答疑难问题数")
def results_record_cmd(call: Call, code: str, uscc: str, item: str, codes: str, finding: str, method: str,
                       handling: tuple[int, ...], handling_note: str, questions: int) -> None:
    from workflow.services.results import record_result, result_of
    from workflow.uscc import normalise

    uscc = normalise(uscc)
    result = result_of(item, codes, finding=finding, method=method, handling=list(handling),
                       handling_note=handling_note, questions=questions)
    recorded = _act(call, code, "result", lambda conn, plan: record_result(conn, plan, uscc, result, now=call.now,
                                                                         actor=call.user), uscc)
    line = f"已回填企业 {uscc} 抽查事项 {item}：{'、'.join(sorted(result.codes))}"
    if recorded.abnormal:
        line += "（应列入经营异常名录）"
    if recorded.reported:
        line += "；全部事项已回填，状态：已回填" + ("（回填已逾期）" if recorded.late else "")
    out(line)


@command(results_group, "import", changes=True,
         help="导入填好的一企一表（本系统生成的 XLSX，可在 WPS 或 Excel 中填写）：先记录实地核查，再回填各事项结果；有问题时指出单元格，不作记录。")
@click.argument("file", metavar="文件")
def results_import_cmd(call: Call, file: str) -> None:
    from workflow.services.campaigns import campaign_calendar
    from workflow.services.form_import import import_filled_form

    engine = call.engine()
    try:
        done = import_filled_form(engine, file, now=call.now, actor=call.user, calendar_of=campaign_calendar)
    finally:
        engine.dispose()
    parts = [f"已导入 {file}：企业 {done.uscc}"]
    if done.visit_recorded:
        parts.append("记录实地核查")
    parts.append(f"回填 {done.items} 个事项")
    if done.abnormal:
        parts.append("有应列入经营异常名录的结果")
    if done.reported:
        parts.append("全部事项已回填" + ("（回填已逾期）" if done.late else ""))
    out("，".join(parts) + "。")


@command(cli, "publish", changes=True,
         help="公示（领导小组办公室的行为）：把已回填的企业改为已公示，写出国家企业信用信息公示系统交换文件（JSONL 和 CSV）和检查结果公告（HTML）。")
@click.argument("code", metavar="任务编号")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
def publish_cmd(call: Call, code: str, out_dir: str) -> None:
    from workflow.services.inspections import refusals_audited
    from workflow.services.publication import publish

    def publish_(engine, plan):
        with refusals_audited(engine, plan=plan, uscc=None, what="publish", now=call.now, actor=call.user):
            return publish(engine, plan, Path(out_dir), now=call.now, actor=call.user)

    report = _with_plan(call, code, publish_)
    out(f"本次公示 {report.moved.moved} 户，累计已公示 {report.published} 户。")
    for path in report.files:
        out(f"已写入 {path}")
    for uscc, lines in report.moved.refused:
        err(f"企业 {uscc} 未能公示：{'；'.join(line.strip() for line in lines[1:])}")


@cli.group("report", context_settings=CONTEXT, help="报表：抽查情况统计表等。")
def report_group() -> None:
    pass


@command(report_group, "stats", help="抽查情况统计表（按附件的栏目、口径和顺序；合计一行、每个部门一行）；XLSX 另有企业检查结果工作表。")
@click.argument("code", metavar="任务编号")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx 或 .csv）")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="格式（默认按文件扩展名，否则 xlsx）")
def report_stats_cmd(call: Call, code: str, out_file: str, fmt: str | None) -> None:
    from workflow.services.reports import write_statistics
    from workflow.statistics import COLUMNS

    fmt = fmt or ("csv" if out_file.lower().endswith(".csv") else "xlsx")
    rows = _with_plan(call, code, lambda engine, plan: write_statistics(engine, plan, Path(out_file), now=call.now,
                                                                        fmt=fmt))
    total = dict(zip((label for _, label in COLUMNS), rows[0].cells()))
    out(f"已写入 {out_file}：" + "，".join(f"{k} {v}" for k, v in total.items()))


def _report_command(name: str, label: str):
    @command(report_group, name, help=f"{label}（XLSX，含 Excel 原生图表）。")
    @click.argument("code", metavar="任务编号")
    @click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（.xlsx）")
    def report_cmd(call: Call, code: str, out_file: str) -> None:
        from workflow.services import reports
        from workflow.services.campaigns import campaign_calendar

        def write(engine, plan):
            if name == "overdue":
                return reports.write_overdue_report(engine, plan, Path(out_file), now=call.now,
                                                    calendar=campaign_calendar(plan))
            if name == "confirmation":
                return reports.write_confirmation_report(engine, plan, Path(out_file), now=call.now)
            return reports.write_summary_report(engine, plan, Path(out_file), now=call.now,
                                                calendar=campaign_calendar(plan))

        result = _with_plan(call, code, write)
        line = f"已写入 {out_file}"
        if name == "overdue":
            line += f"：逾期事项 {len(result)} 项"
        out(line + "。")

    return report_cmd


for _name, _label in (("overdue", "逾期部门情况表：各部门逾期事项、涉及企业、逾期工作日和责任人"),
                      ("confirmation", "比对确认情况表：各部门的比对确认结果，以及检查人员及其手机"),
                      ("summary", "工作总结：各项数字、进度、各部门总结和方案检查结果")):
    _report_command(_name, _label)


def _report_checks(checks) -> None:
    for c in checks:
        out(f"{c.subject}：{'一致' if c.ok else '不一致'}（{c.detail}）")
    if all(c.ok for c in checks):
        out("一致")
        return
    out("不一致：" + "、".join(c.subject for c in checks if not c.ok))
    raise click.exceptions.Exit(1)


class _ConfirmGroup(click.Group):
    """``ssj confirm CODE DEPT USCC …`` answers; ``ssj confirm import FILE`` imports a returned file."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["answer", *args]
        return super().parse_args(ctx, args)


@cli.group("confirm", cls=_ConfirmGroup, context_settings=CONTEXT,
           help="部门比对确认：ssj confirm 任务编号 部门代码 统一社会信用代码 --inspect|--decline 理由；"
                "或 ssj confirm import 文件（部门返回的确认表）。")
def confirm_group() -> None:
    pass


@command(confirm_group, "answer", changes=True,
         help="记录一个部门对一户企业的比对确认（ssj confirm 任务编号 部门代码 统一社会信用代码 …）。"
              "部门管理员或联络人自行确认；期限届满后办公室可代为确认（记录为代为确认）。")
@click.argument("code", metavar="任务编号")
@click.argument("department", metavar="部门代码")
@click.argument("uscc", metavar="统一社会信用代码")
@click.option("--inspect", "inspects", is_flag=True, help="检查该企业")
@click.option("--decline", metavar="理由", help="不检查该企业，并说明理由")
def confirm_answer_cmd(call: Call, code: str, department: str, uscc: str, inspects: bool, decline: str | None) -> None:
    from workflow.services.confirmations import record_answer
    from workflow.uscc import normalise

    if inspects == (decline is not None):
        raise UserError("请在 --inspect 和 --decline 理由 之中选择一个")
    uscc = normalise(uscc)
    on_behalf = _act(call, code, "answer", lambda conn, plan: record_answer(
        conn, plan, department, uscc, inspects=inspects, reason=decline or "", now=call.now, actor=call.user), uscc)
    what = "检查" if inspects else f"不检查（理由：{decline.strip()}）"
    out(f"已记录部门 {department} 对企业 {uscc} 的比对确认：{what}" + ("，由办公室代为确认" if on_behalf else ""))


@command(confirm_group, "import", changes=True, json_output=True,
         help="导入部门返回的比对确认表（CSV 或 XLSX：抽查任务编号、部门代码、统一社会信用代码、是否检查、不检查理由），全部正确才记录。")
@click.argument("file", metavar="文件")
def confirm_import_cmd(call: Call, file: str) -> None:
    from workflow.services.confirmations import import_answers

    engine = call.engine()
    try:
        recorded, on_behalf = import_answers(engine, file, now=call.now, actor=call.user)
    finally:
        engine.dispose()
    if call.as_json:
        emit_json({"file": file, "recorded": recorded, "on_behalf": on_behalf})
        return
    out(f"已导入比对确认：{file} 共 {recorded} 条" + (f"（其中办公室代为确认 {on_behalf} 条）" if on_behalf else "") + "。")


@command(confirm_group, "report", changes=True,
         help="收到部门盖章的比对确认报告（检查对象、执法人员及手机）：原样保存文件，完成该部门的报送任务。")
@click.argument("code", metavar="任务编号")
@click.argument("department", metavar="部门代码")
@click.argument("file", metavar="文件")
def confirm_report_cmd(call: Call, code: str, department: str, file: str) -> None:
    from workflow.services.documents import receive_document

    late = _act(call, code, "confirmation_report", lambda conn, plan: receive_document(
        conn, plan, "confirmation_report", department, Path(file), now=call.now, actor=call.user))
    out(f"已收到部门 {department} 的盖章比对确认报告：{file}" + ("（已逾期）" if late else "") + "。")


@cli.group("summary", context_settings=CONTEXT, help="部门总结：检查表、工作总结（亮点、经验做法、存在问题）和统计表。")
def summary_group() -> None:
    pass


@command(summary_group, "submit", changes=True,
         help="部门报送总结（DOCX、XLSX 或 PDF，原样保存）：读取其中的亮点、经验做法、存在问题（PDF 用选项给出）。")
@click.argument("code", metavar="任务编号")
@click.argument("department", metavar="部门代码")
@click.argument("file", metavar="文件")
@click.option("--highlights", default="", metavar="文本", help="亮点")
@click.option("--practices", default="", metavar="文本", help="经验做法")
@click.option("--problems", default="", metavar="文本", help="存在问题")
def summary_submit_cmd(call: Call, code: str, department: str, file: str, highlights: str, practices: str,
                       problems: str) -> None:
    from workflow.services.documents import receive_document

    texts = {"highlights": highlights, "practices": practices, "problems": problems}
    late = _act(call, code, "summary", lambda conn, plan: receive_document(
        conn, plan, "summary", department, Path(file), now=call.now, actor=call.user, texts=texts))
    out(f"已收到部门 {department} 的总结：{file}" + ("（已逾期）" if late else "") + "。")


@cli.group("audit", context_settings=CONTEXT, help="审计记录（哈希链）。")
def audit_group() -> None:
    pass


@command(audit_group, "verify", json_output=True,
         help="逐条核对每条审计链（每个抽查任务一条，名录导入一条）：发现被修改、删除、插入或调换次序的记录时指出第一条并返回 1。")
def audit_verify_cmd(call: Call) -> None:
    from workflow.persistence.audit_log import AuditLog

    engine = call.engine()
    try:
        with engine.connect() as conn:
            reports = AuditLog(conn).verify()
    finally:
        engine.dispose()
    broken = [r for r in reports if not r.ok]
    if call.as_json:
        emit_json({"ok": not broken, "chains": [{"chain": r.chain, "rows": r.rows, "ok": r.ok, "head": r.head_hash,
                                                 "problem": r.problem} for r in reports]})
    else:
        if not reports:
            out("没有审计记录。")
        for r in reports:
            out(f"{r.chain}：{r.rows} 条，完整，链头 {r.head_hash[:16]}" if r.ok else r.problem)
        if reports and not broken:
            out(f"全部 {len(reports)} 条审计链完整，共 {sum(r.rows for r in reports)} 条记录。")
    if broken:
        err(f"{len(broken)} 条审计链被改动。")
        raise click.exceptions.Exit(1)


@cli.group("machine", context_settings=CONTEXT, help="检查状态机。")
def machine_group() -> None:
    pass


@command(machine_group, "diagram", help="把检查状态机写成 mermaid 图；装有 Graphviz（dot）时另写 PNG。不访问数据库。")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="输出文件（如 machine.mmd）")
def machine_diagram_cmd(call: Call, out_file: str) -> None:
    import shutil
    import subprocess

    from workflow.machine import graphviz_dot, mermaid

    path = Path(out_file)
    path.write_text(mermaid(), encoding="utf-8")
    out(f"已写入 {path}")
    dot = shutil.which("dot")
    if dot is None:
        err("未安装 Graphviz（dot），只写出 mermaid 图。")
        return
    png = path.with_suffix(".png")
    subprocess.run([dot, "-Tpng", "-o", str(png)], input=graphviz_dot().encode("utf-8"), check=True)
    out(f"已写入 {png}")


@command(cli, "tick", changes=True, json_output=True,
         help="推进一次抽查任务（不经 Prefect，适合 cron 或排障）：巡查期限、排队并发送提醒和逾期通知。")
@click.argument("code", metavar="任务编号")
def tick_cmd(call: Call, code: str) -> None:
    from workflow.files.location import campaign_folder
    from workflow.identity import SYSTEM
    from workflow.services.outbox import SmtpConfig, send_outbox
    from workflow.services.tick import advance
    from workflow.tasks import TASK_LABELS

    def tick(engine, plan):
        advanced = advance(engine, plan, now=call.now, actor=SYSTEM, files_dir=campaign_folder(code))
        if advanced.officer_commitment:
            err(f"比对确认已全部完成，已提交执法人员抽取承诺 {advanced.officer_commitment}（已通知领导小组办公室公布）")
        if advanced.forms:
            err(f"已生成一企一表 {advanced.forms.forms} 份并派发给执法人员：{campaign_folder(code).resolve() / '一企一表'}")
        for problem in advanced.problems:
            err(problem)
        for change in (c for c in advanced.moved if c.before != c.after or c.kept):
            err(f"期限调整：{TASK_LABELS.get(change.kind, change.kind)} {change.before.astimezone(plan.tz):%Y-%m-%d %H:%M} → "
                f"{change.after.astimezone(plan.tz):%Y-%m-%d %H:%M}" + ("（暂定期限不提前，保持原期限）" if change.kept else ""))
        swept = advanced.swept
        sent = send_outbox(engine, SmtpConfig.from_env(os.environ), now=call.now, worker=f"cli-{os.getpid()}")
        return swept, sent

    swept, sent = _with_plan(call, code, tick)
    result = {"planned": swept.planned, "notices": swept.notices, "queued": swept.queued, "sent": sent.sent,
              "failed": sent.failed}
    if call.as_json:
        emit_json(result)
        return
    out(f"巡查：新排期 {swept.planned} 项，发出通知 {swept.notices} 项（邮件 {swept.queued} 封入队）；"
        f"发送 {sent.sent} 封" + (f"，失败 {sent.failed} 封（稍后重试）" if sent.failed else "") + "。")
    for error in sent.errors[:3]:
        err(f"邮件发送失败：{error}")


@cli.group("calendar", context_settings=CONTEXT, help="工作日历：节假日安排更新后重新计算期限。")
def calendar_group() -> None:
    pass


@command(calendar_group, "reload", changes=True,
         help="按当前工作日历（含新增的年度文件）重新计算各抽查任务未完成事项的期限；暂定期限对已开始的工作不提前。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
def calendar_reload_cmd(call: Call, codes: tuple[str, ...]) -> None:
    from workflow.services.deadline_changes import follow_calendar

    chosen = _campaigns(call, codes)

    for code in chosen:
        moved = _with_plan(call, code, lambda engine, plan: follow_calendar(engine, plan, now=call.now,
                                                                            actor=call.user, force=True))
        really = [m for m in moved if m.before != m.after]
        out(f"{code}：重新计算期限，调整 {len(really)} 项" + (f"，暂定期限保持 {sum(m.kept for m in moved)} 项" if any(
            m.kept for m in moved) else "") + "。")


@command(cli, "serve", help="启动 Prefect 部署：每个抽查任务每 15 分钟推进一次，每个工作日 08:30 发送逾期部门报告（北京时间）。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
def serve_cmd(call: Call, codes: tuple[str, ...]) -> None:
    from prefect import serve

    from flows.campaign import deployments
    from workflow.services.campaigns import calendar_problem

    chosen = _campaigns(call, codes)
    for code in chosen:  # at start-up: a broken override file is refused, the adopted calendar kept
        problem = _with_plan(call, code, lambda engine, plan: calendar_problem(plan))
        if problem:
            err(f"{code}：{problem}")
    err(f"正在提供 {len(chosen)} 个抽查任务的部署（Ctrl-C 停止）；看板：prefect server start 后打开 http://127.0.0.1:4200")
    serve(*deployments(chosen))


@command(cli, "deploy", help="在 Prefect 工作池上注册部署（规模化：由多个 prefect worker start 进程执行），日程同 ssj serve。")
@click.argument("codes", nargs=-1, metavar="任务编号…")
@click.option("--pool", required=True, metavar="工作池", help="Prefect 工作池名称（prefect work-pool create 名称 --type process）")
def deploy_cmd(call: Call, codes: tuple[str, ...], pool: str) -> None:
    from flows.campaign import deploy_to_pool

    for name in deploy_to_pool(_campaigns(call, codes), pool, Path(__file__).resolve().parents[1]):
        out(f"已注册部署 {name}（工作池 {pool}）")
    err("启动执行进程：prefect worker start --pool " + pool + "（可启动多个；各进程须设置 SSJ_DATABASE_URL 等环境变量）")


def _campaigns(call: Call, codes: tuple[str, ...]) -> list[str]:
    """The campaigns named, or every stored one; an unknown code or none at all is refused."""
    from sqlalchemy import select

    from workflow.persistence import orm

    engine = call.engine()
    try:
        with engine.connect() as conn:
            known = list(conn.execute(select(orm.Campaign.code).order_by(orm.Campaign.code)).scalars())
    finally:
        engine.dispose()
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise UserError(f"抽查任务不存在：{'、'.join(unknown)}")
    if not (codes or known):
        raise UserError("还没有抽查任务（用 ssj campaign create 创建）")
    return list(codes) or known


@command(cli, "demo", help="演示：在 --out 下的新数据库中，用示例辖区运行鹿泉区 2019 年下半年联合抽查。")
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False),
              help="输出目录")
@click.option("--enterprises", "n", type=click.IntRange(100, 2_000_000), default=30_000, show_default=True,
              help="示例辖区的企业数量")
@click.option("--seed", type=int, default=2019, show_default=True, help="随机种子")
def demo_cmd(call: Call, out_dir: str, n: int, seed: int) -> None:
    from ssj.demo import run_demo

    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")  # the demo prints its own account

    run_demo(Path(out_dir), enterprises=n, seed=seed, echo=out)


# --- entry point -----------------------------------------------------------


def _prefect_defaults() -> None:
    """Prefect offline: no analytics, and its home in the project unless the user chose one."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))


def run(args: list[str] | None = None) -> int:
    """Run ``ssj`` with ``args``; returns the exit code instead of exiting."""
    _prefect_defaults()
    from workflow.services.directory_import import ImportRejected

    try:
        result = cli.main(args=args, prog_name="ssj", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        err("已中止。")
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ImportRejected as exc:
        for line in exc.warnings:
            err(line)
        for line in exc.problems.lines():
            err(line)
        err(f"导入被拒绝：共 {exc.problems.total} 个问题，数据库未作任何更改。")
        return 2
    except UserError as exc:
        for line in exc.lines:
            err(line)
        return exc.exit_code
    except DatabaseNotReady as exc:
        err(str(exc))
        return 1
    except (OperationalError, InterfaceError) as exc:  # the server went away mid-command
        err(f"数据库连接中断：{first_line(exc)}。未完成的事务已回滚；请稍后重试（定时推进会自动补上）")
        return 1
    except Exception as exc:  # an internal failure: say so in Chinese, keep the trace for engineers
        err(f"内部错误：{type(exc).__name__}: {exc}")
        if os.environ.get("SSJ_DEBUG"):
            traceback.print_exc()
        return 1


def main() -> None:
    sys.exit(run(sys.argv[1:]))
