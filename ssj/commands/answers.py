"""What departments and officers send back: ``ssj confirm …``, ``ssj summary submit``, ``ssj results …``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click

from ssj.commands import CODE, USCC, Call, act, cli, command, emit_json, group, out
from workflow.errors import UserError


class _ConfirmGroup(click.Group):
    """``ssj confirm CODE DEPT USCC …`` answers; ``ssj confirm import FILE`` imports a returned file."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["answer", *args]
        return super().parse_args(ctx, args)


confirm_group = group(cli, "confirm", "部门比对确认：ssj confirm 任务编号 部门代码 统一社会信用代码 --inspect|--decline 理由；"
                      "或 ssj confirm import 文件（部门返回的确认表）。", _ConfirmGroup)


@command(confirm_group, "answer", changes=True, for_party=True,
         help="记录一个部门对一户企业的比对确认（ssj confirm 任务编号 部门代码 统一社会信用代码 …）。"
              "部门管理员或联络人自行确认；期限届满后办公室可代为确认（记录为代为确认）。")
@CODE
@click.argument("department", metavar="部门代码")
@USCC
@click.option("--inspect", "inspects", is_flag=True, help="检查该企业")
@click.option("--decline", metavar="理由", help="不检查该企业，并说明理由")
def confirm_answer_cmd(call: Call, code: str, department: str, uscc: str, inspects: bool, decline: str | None) -> None:
    from workflow.services.confirmations import record_answer

    if inspects == (decline is not None):
        raise UserError("请在 --inspect 和 --decline 理由 之中选择一个")
    on_behalf = act(call, code, "answer", lambda uow: record_answer(
        uow, department, uscc, inspects=inspects, reason=decline or ""), uscc=uscc)
    what = "检查" if inspects else f"不检查（理由：{decline.strip()}）"
    out(f"已记录部门 {department} 对企业 {uscc} 的比对确认：{what}" + ("，由办公室代为确认" if on_behalf else ""))


@command(confirm_group, "import", changes=True, for_party=True, json_output=True,
         help="导入部门返回的比对确认表（CSV 或 XLSX：抽查任务编号、部门代码、统一社会信用代码、是否检查、不检查理由），全部正确才记录。")
@click.argument("file", metavar="文件")
def confirm_import_cmd(call: Call, file: str) -> None:
    from workflow.services.confirmations import import_answers

    done = import_answers(call.uow(), file)
    recorded, on_behalf = done.recorded, done.on_behalf
    if call.as_json:
        emit_json({"file": file, "recorded": recorded, "on_behalf": on_behalf})
        return
    out(f"已导入比对确认：{file} 共 {recorded} 条" + (f"（其中办公室代为确认 {on_behalf} 条）" if on_behalf else "") + "。")


@command(confirm_group, "report", changes=True, for_party=True,
         help="收到部门盖章的比对确认报告（检查对象、执法人员及手机）：原样保存文件，完成该部门的报送任务。")
@CODE
@click.argument("department", metavar="部门代码")
@click.argument("file", metavar="文件")
def confirm_report_cmd(call: Call, code: str, department: str, file: str) -> None:
    from workflow.services.documents import receive_document

    late = act(call, code, "confirmation_report", lambda uow: receive_document(
        uow, "confirmation_report", department, Path(file)))
    out(f"已收到部门 {department} 的盖章比对确认报告：{file}" + ("（已逾期）" if late else "") + "。")


summary_group = group(cli, "summary", "部门总结：检查表、工作总结（亮点、经验做法、存在问题）和统计表。")


@command(summary_group, "submit", changes=True, for_party=True,
         help="部门报送总结（DOCX、XLSX 或 PDF，原样保存）：读取其中的亮点、经验做法、存在问题（PDF 用选项给出）。")
@CODE
@click.argument("department", metavar="部门代码")
@click.argument("file", metavar="文件")
@click.option("--highlights", default="", metavar="文本", help="亮点")
@click.option("--practices", default="", metavar="文本", help="经验做法")
@click.option("--problems", default="", metavar="文本", help="存在问题")
def summary_submit_cmd(call: Call, code: str, department: str, file: str, highlights: str, practices: str,
                       problems: str) -> None:
    from workflow.services.documents import receive_document

    texts = {"highlights": highlights, "practices": practices, "problems": problems}
    late = act(call, code, "summary", lambda uow: receive_document(uow, "summary", department, Path(file), texts=texts))
    out(f"已收到部门 {department} 的总结：{file}" + ("（已逾期）" if late else "") + "。")


results_group = group(cli, "results", "实地核查和检查结果回填：逐项录入，或导入填好的一企一表（XLSX）。")


def _date_option(text: str) -> date:
    from workflow.directory import Invalid, parse_date

    try:
        return parse_date(text)
    except Invalid as exc:
        raise UserError(f"--date: {exc}") from None


@command(results_group, "visit", changes=True, for_party=True,
         help="记录一户企业的联合实地核查（一次性完成）：日期、到场检查人员、法定代表人签字或盖章（或拒绝签字、无人签字及说明）。")
@CODE
@USCC
@click.option("--date", "day", required=True, metavar="日期", help="核查日期（如 2019-12-10）")
@click.option("--officers", required=True, metavar="执法证号,…", help="到场的检查人员执法证号，逗号分隔（至少 2 人）")
@click.option("--signature", required=True, type=click.Choice(["签字", "盖章", "拒绝签字", "无人签字"]),
              help="企业签字情况")
@click.option("--note", default="", metavar="说明", help="情况说明（拒绝签字、无人签字时必填）")
def results_visit_cmd(call: Call, code: str, uscc: str, day: str, officers: str, signature: str, note: str) -> None:
    from workflow.services.results import record_visit, visit_of

    visit = visit_of(_date_option(day), re.split(r"[\s,，、]+", officers), signature, note)
    act(call, code, "visit", lambda uow: record_visit(uow, uscc, visit), uscc=uscc)
    out(f"已记录企业 {uscc} 的实地核查（{visit.day}，{signature}），状态：已检查；请在回填期限内回填检查结果。")


@command(results_group, "record", changes=True, for_party=True,
         help="回填一户企业一个抽查事项的检查结果（检查结果代码见 GLOSSARY：1、E、A+B/C/6/D/3/4/5、8、F、7、9）。")
@CODE
@USCC
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

    result = result_of(item, codes, finding=finding, method=method, handling=list(handling),
                       handling_note=handling_note, questions=questions)
    recorded = act(call, code, "result", lambda uow: record_result(uow, uscc, result), uscc=uscc)
    line = f"已回填企业 {uscc} 抽查事项 {item}：{'、'.join(sorted(result.codes))}"
    if recorded.abnormal:
        line += "（应列入经营异常名录）"
    if recorded.reported:
        line += "；全部事项已回填，状态：已回填" + ("（回填已逾期）" if recorded.late else "")
    out(line)


@command(results_group, "import", changes=True, for_party=True,
         help="导入填好的一企一表（本系统生成的 XLSX，可在 WPS 或 Excel 中填写）：先记录实地核查，再回填各事项结果；有问题时指出单元格，不作记录。")
@click.argument("file", metavar="文件")
def results_import_cmd(call: Call, file: str) -> None:
    from workflow.services.form_import import import_filled_form

    done = import_filled_form(call.uow(), file)
    parts = [f"已导入 {file}：企业 {done.uscc}"]
    if done.visit_recorded:
        parts.append("记录实地核查")
    parts.append(f"回填 {done.items} 个事项")
    if done.abnormal:
        parts.append("有应列入经营异常名录的结果")
    if done.reported:
        parts.append("全部事项已回填" + ("（回填已逾期）" if done.late else ""))
    out("，".join(parts) + "。")
