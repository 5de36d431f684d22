"""The 一企一表 (随机抽查联合检查记录表) as XLSX and DOCX, and the visit schedule as XLSX.

Printable on A4 (portrait, fitted to the page width). The XLSX form is also the
back-fill input: its hidden sheet ``ssj`` names the campaign, the enterprise and
the row of each item, so a form filled in WPS or Excel reads back unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from workflow.files.atomic import write_atomically
from workflow.files.location import form_file_stem
from workflow.files.spreadsheet import put
from workflow.results import HANDLING, RESULT_WORDING

TITLE = "随机抽查联合检查记录表（一企一表）"
ITEM_HEADERS = ("检查部门", "抽查事项", "检查内容", "检查方式", "检查结果（代码）", "发现问题", "后续处置（代码）",
                "处置说明")
# Where a filled form's answers are, column by column, on each item's row (the back-fill input).
ITEM_COLUMNS = {"method": "D", "codes": "E", "finding": "F", "handling": "G", "handling_note": "H"}
VISIT_LABELS = {"date": "实际核查日期", "officers": "到场检查人员（执法证号，用顿号分隔）",
                "signature": "签字情况（签字／盖章／拒绝签字／无人签字）", "note": "情况说明（拒绝签字、无人签字的须如实记录）"}
SIGNATURE_LINES = (
    "企业法定代表人（负责人）签字或盖章：______________________    日期：____年__月__日",
    "□ 拒绝签字    □ 无人签字    情况说明（拒绝签字、无人签字的须如实记录）：____________________________",
    "检查人员签字：______________________________________________    日期：____年__月__日",
)


@dataclass(frozen=True)
class FormItem:
    department: str  # the department's name
    code: str
    name: str
    contents: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class FormMember:
    name: str
    certificate_no: str
    department: str
    specialist: bool = False


@dataclass(frozen=True)
class Form:
    campaign_code: str
    campaign_name: str
    document_no: str
    office: str
    uscc: str
    enterprise: str
    address: str
    legal_representative: str
    phone: str
    items: tuple[FormItem, ...]
    team: tuple[FormMember, ...]
    planned_on: date
    group: int

    @property
    def file_stem(self) -> str:
        return form_file_stem(self.uscc, self.enterprise)


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _a4(sheet) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4


def write_form_xlsx(form: Form, path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "一企一表"
    widths = (14, 22, 34, 12, 12, 22, 12, 16)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(widths))

    def line(row: int, label: str, value: str) -> None:
        sheet.cell(row, 1, label).font = Font(bold=True)
        put(sheet, row, 2, value)  # names and addresses come from the directories: never a formula
        sheet.merge_cells(f"B{row}:{last}{row}")
        for col in range(1, len(widths) + 1):
            sheet.cell(row, col).border = _BOX
        sheet.cell(row, 2).alignment = _WRAP

    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = _CENTER
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 30
    rows = [("抽查任务", f"{form.campaign_name}（{form.campaign_code}）"), ("文号", form.document_no),
            ("组织单位", form.office), ("企业名称", form.enterprise), ("统一社会信用代码", form.uscc),
            ("住所", form.address), ("法定代表人", form.legal_representative), ("联系电话", form.phone),
            ("计划核查日期", f"{form.planned_on:%Y年%m月%d日}（第 {form.group} 组）"),
            *((label, "") for label in VISIT_LABELS.values())]
    row = 2
    for label, value in rows:
        line(row, label, value)
        row += 1
    row += 1
    for col, header in enumerate(ITEM_HEADERS, start=1):
        cell = sheet.cell(row, col, header)
        cell.font, cell.alignment, cell.border = Font(bold=True), _CENTER, _BOX
    item_rows = []
    for item in form.items:
        row += 1
        values = (item.department, f"{item.code} {item.name}", "\n".join(f"{n}. {c}" for n, c in
                                                                        enumerate(item.contents, start=1)),
                  item.method, "", "", "", "")
        for col, value in enumerate(values, start=1):
            cell = put(sheet, row, col, value)
            cell.alignment, cell.border = _WRAP, _BOX
        sheet.row_dimensions[row].height = max(30, 15 * max(1, len(item.contents)))
        item_rows.append((item.code, row))
    row += 2
    for col, header in enumerate(("检查人员", "执法证号", "所在部门", "备注"), start=1):
        cell = sheet.cell(row, col, header)
        cell.font, cell.border = Font(bold=True), _BOX
    for member in form.team:
        row += 1
        for col, value in enumerate((member.name, member.certificate_no, member.department,
                                     "专业人员协助" if member.specialist else ""), start=1):
            put(sheet, row, col, value).border = _BOX
    row += 2
    line(row, "现场解答疑难问题（个）", "")
    questions_row = row
    row += 2
    for text in SIGNATURE_LINES:
        sheet.cell(row, 1, text)
        sheet.merge_cells(f"A{row}:{last}{row}")
        sheet.row_dimensions[row].height = 28
        row += 1
    row += 1
    sheet.cell(row, 1, "检查结果代码：" + "；".join(f"{c} {w}" for c, w in RESULT_WORDING.items())).alignment = _WRAP
    sheet.merge_cells(f"A{row}:{last}{row}")
    sheet.row_dimensions[row].height = 60
    row += 1
    sheet.cell(row, 1, "后续处置代码：" + "；".join(f"{n} {w}" for n, w in HANDLING.items())).alignment = _WRAP
    sheet.merge_cells(f"A{row}:{last}{row}")
    sheet.row_dimensions[row].height = 45
    _a4(sheet)
    sheet.print_title_rows = "1:1"

    data = book.create_sheet("ssj")
    data.sheet_state = "hidden"
    data.append(["key", "value"])
    data.append(["campaign", form.campaign_code])
    data.append(["uscc", form.uscc])
    data.append(["form", "ssj-form-v1"])
    for key, label in VISIT_LABELS.items():
        data.append([f"{key}_cell", f"B{2 + rows.index((label, ''))}"])
    data.append(["questions_cell", f"B{questions_row}"])
    for code, item_row in item_rows:
        data.append([f"item:{code}", item_row])
    write_atomically(path, book.save)


def write_form_docx(form: Form, path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.8)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.bold, run.font.size = True, Pt(16)
    facts = doc.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in (("抽查任务", f"{form.campaign_name}（{form.campaign_code}）"), ("文号", form.document_no),
                         ("组织单位", form.office), ("企业名称", form.enterprise), ("统一社会信用代码", form.uscc),
                         ("住所", form.address), ("法定代表人", form.legal_representative), ("联系电话", form.phone),
                         ("计划核查日期", f"{form.planned_on:%Y年%m月%d日}（第 {form.group} 组）"),
                         *((label, "") for label in VISIT_LABELS.values())):
        cells = facts.add_row().cells
        cells[0].text, cells[1].text = label, value
    doc.add_paragraph()
    items = doc.add_table(rows=1, cols=len(ITEM_HEADERS))
    items.style = "Table Grid"
    for cell, header in zip(items.rows[0].cells, ITEM_HEADERS):
        cell.text = header
    for item in form.items:
        cells = items.add_row().cells
        values = (item.department, f"{item.code} {item.name}",
                  "\n".join(f"{n}. {c}" for n, c in enumerate(item.contents, start=1)), item.method, "", "", "", "")
        for cell, value in zip(cells, values):
            cell.text = value
    doc.add_paragraph()
    team = doc.add_table(rows=1, cols=4)
    team.style = "Table Grid"
    for cell, header in zip(team.rows[0].cells, ("检查人员", "执法证号", "所在部门", "备注")):
        cell.text = header
    for member in form.team:
        cells = team.add_row().cells
        for cell, value in zip(cells, (member.name, member.certificate_no, member.department,
                                       "专业人员协助" if member.specialist else "")):
            cell.text = value
    doc.add_paragraph("现场解答疑难问题（个）：________")
    for text in SIGNATURE_LINES:
        doc.add_paragraph(text)
    doc.add_paragraph("检查结果代码：" + "；".join(f"{c} {w}" for c, w in RESULT_WORDING.items()))
    doc.add_paragraph("后续处置代码：" + "；".join(f"{n} {w}" for n, w in HANDLING.items()))
    write_atomically(path, doc.save)


SCHEDULE_HEADERS = ("核查日期", "组（车辆）", "统一社会信用代码", "企业名称", "住所", "检查人员（执法证号）")


def write_schedule_xlsx(title: str, rows: list[tuple], path: Path) -> None:
    """Rows: (day, group, USCC, name, address, team text), in visiting order."""
    book = Workbook()
    sheet = book.active
    sheet.title = "实地核查安排"
    put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(f"A1:{get_column_letter(len(SCHEDULE_HEADERS))}1")
    for col, (header, width) in enumerate(zip(SCHEDULE_HEADERS, (14, 10, 22, 30, 34, 40)), start=1):
        cell = sheet.cell(2, col, header)
        cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
        sheet.column_dimensions[get_column_letter(col)].width = width
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values, start=1):
            cell = put(sheet, r, col, value)
            cell.border, cell.alignment = _BOX, _WRAP
            if col == 1:
                cell.number_format = "yyyy-mm-dd"
    _a4(sheet)
    sheet.print_title_rows = "2:2"
    write_atomically(path, book.save)
