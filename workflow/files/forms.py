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

from workflow.file_tokens import FileToken
from workflow.files.atomic import write_atomically
from workflow.files.location import form_file_stem
from workflow.deadline_words import day_words
from workflow.files.token_sheet import write_token
from workflow.files.spreadsheet import column_widths, line_height, print_on_a4, put, set_row_heights, wide_header
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
    token: FileToken | None = None  # says the returned file is ours, for this enterprise (``workflow.file_tokens``)

    @property
    def file_stem(self) -> str:
        return form_file_stem(self.uscc, self.enterprise)


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


# Portrait A4, fitted to the page width at 9 pt or more: the items' columns, the widest first.
FORM_WIDTHS = (12, 16, 26, 10, 10, 16, 10, 14)
WRITE_LINES = 2  # a row left for handwriting is at least this many lines high
# The row heights page 1 holds at the least (A4 less 0.75-inch margins, unscaled): below it the items run over.
PAGE_ROWS_PT = 841.9 - 108


def _facts(form: Form) -> list[tuple[str, str]]:
    return [("抽查任务", f"{form.campaign_name}（{form.campaign_code}）"), ("文号", form.document_no),
            ("组织单位", form.office), ("企业名称", form.enterprise), ("统一社会信用代码", form.uscc),
            ("住所", form.address), ("法定代表人", form.legal_representative), ("联系电话", form.phone),
            ("计划核查日期", f"{day_words(form.planned_on)}（第 {form.group} 组）")]


def write_form_xlsx(form: Form, path: Path) -> None:
    """The form on portrait A4: labels whole (they span two columns and wrap), rows to fill in two lines high or
    more, the items' header repeated on every page it runs over."""
    book = Workbook()
    sheet = book.active
    sheet.title = "一企一表"
    for i, width in enumerate(FORM_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(FORM_WIDTHS))
    handwritten: list[int] = []

    def line(row: int, label: str, value: str) -> None:
        put(sheet, row, 1, label).font = Font(bold=True)
        sheet.cell(row, 1).alignment = Alignment(vertical="center", wrap_text=True)
        sheet.merge_cells(f"A{row}:B{row}")
        put(sheet, row, 3, value)  # names and addresses come from the directories: never a formula
        sheet.merge_cells(f"C{row}:{last}{row}")
        for col in range(1, len(FORM_WIDTHS) + 1):
            sheet.cell(row, col).border = _BOX
        sheet.cell(row, 3).alignment = _WRAP

    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = _CENTER
    sheet.merge_cells(f"A1:{last}1")
    row = 2
    visit_cells = {}
    for label, value in _facts(form):
        line(row, label, value)
        row += 1
    for key, label in VISIT_LABELS.items():
        line(row, label, "")
        visit_cells[key], row = f"C{row}", row + 1
        handwritten.append(row - 1)
    row += 1
    header_row = row
    for col, header in enumerate(ITEM_HEADERS, start=1):
        cell = sheet.cell(row, col, wide_header(header, FORM_WIDTHS[col - 1]))  # 检查结果 / （代码）: brackets together
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
        item_rows.append((item.code, row))
        handwritten.append(row)
    row += 2
    for col, header in enumerate(("检查人员", "执法证号", "所在部门", "备注"), start=1):
        cell = sheet.cell(row, col, header)
        cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
    sheet.merge_cells(f"D{row}:{last}{row}")
    for member in form.team:
        row += 1
        for col, value in enumerate((member.name, member.certificate_no, member.department,
                                     "专业人员协助" if member.specialist else ""), start=1):
            cell = put(sheet, row, col, value)
            cell.border, cell.alignment = _BOX, _WRAP
        sheet.merge_cells(f"D{row}:{last}{row}")
    row += 2
    line(row, "现场解答疑难问题（个）", "")
    questions_row = row
    handwritten.append(row)
    row += 2
    for text in SIGNATURE_LINES:
        sheet.cell(row, 1, text).alignment = Alignment(vertical="bottom", wrap_text=True)
        sheet.merge_cells(f"A{row}:{last}{row}")
        handwritten.append(row)
        row += 1
    row += 1
    for text in ("检查结果代码：" + "；".join(f"{c} {w}" for c, w in RESULT_WORDING.items()),
                 "后续处置代码：" + "；".join(f"{n} {w}" for n, w in HANDLING.items())):
        sheet.cell(row, 1, text).alignment = _WRAP
        sheet.merge_cells(f"A{row}:{last}{row}")
        row += 1
    set_row_heights(sheet, 1, row - 1)
    for r in handwritten:
        least = line_height() * (WRITE_LINES + (r in dict(item_rows).values())) + 4
        sheet.row_dimensions[r].height = max(sheet.row_dimensions[r].height or 0, least)
    items_end = sum(sheet.row_dimensions[r].height or 15 for r in range(1, header_row + len(item_rows) + 1))
    repeated = header_row if items_end > PAGE_ROWS_PT else 1  # the items' header where they run over a page
    print_on_a4(sheet, "portrait", title_rows=f"{repeated}:{repeated}")

    data = book.create_sheet("ssj")
    data.sheet_state = "hidden"
    data.append(["key", "value"])
    data.append(["campaign", form.campaign_code])
    data.append(["uscc", form.uscc])
    data.append(["form", "ssj-form-v1"])
    for key, cell in visit_cells.items():
        data.append([f"{key}_cell", cell])
    data.append(["questions_cell", f"C{questions_row}"])
    for code, item_row in item_rows:
        data.append([f"item:{code}", item_row])
    if form.token is not None:
        write_token(data, form.token)
    write_atomically(path, book.save)


def write_form_docx(form: Form, path: Path) -> None:
    """The same form for Word and WPS: portrait A4, 10.5 pt (五号), the items' header repeated on every page, rows to
    fill in at least two lines high."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.5)
    section.top_margin = section.bottom_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    writing = Cm(1.2)  # two handwritten lines

    def table(widths_cm: tuple[float, ...]):
        grid = doc.add_table(rows=0, cols=len(widths_cm))
        grid.style = "Table Grid"
        grid.autofit = False
        for column, width in zip(grid.columns, widths_cm):  # the grid, which LibreOffice and WPS lay out by
            column.width = Cm(width)
        return grid

    def row_of(grid, values, widths_cm, *, height=None, bold=False):
        cells = grid.add_row().cells
        for cell, value, width in zip(cells, values, widths_cm):
            cell.width = Cm(width)
            cell.text = value
            if bold:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                for run in cell.paragraphs[0].runs:
                    run.bold = True
        if height is not None:
            grid.rows[-1].height, grid.rows[-1].height_rule = height, WD_ROW_HEIGHT_RULE.AT_LEAST
        return grid.rows[-1]

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.bold, run.font.size = True, Pt(16)
    fact_widths = (5.5, 12.5)
    facts = table(fact_widths)
    for label, value in _facts(form):
        row_of(facts, (label, value), fact_widths)
    for label in VISIT_LABELS.values():
        row_of(facts, (label, ""), fact_widths, height=writing)
    doc.add_paragraph()
    item_widths = (2.0, 2.4, 4.0, 1.7, 2.0, 2.4, 2.0, 1.5)  # 2 cm: 检查结果 / （代码） on two whole lines
    items = table(item_widths)
    header = row_of(items, ITEM_HEADERS, item_widths, bold=True)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for item in form.items:
        row_of(items, (item.department, f"{item.code} {item.name}",
                       "\n".join(f"{n}. {c}" for n, c in enumerate(item.contents, start=1)), item.method,
                       "", "", "", ""), item_widths, height=Cm(1.8))
    doc.add_paragraph()
    team_widths = (3.0, 4.0, 7.0, 4.0)
    team = table(team_widths)
    row_of(team, ("检查人员", "执法证号", "所在部门", "备注"), team_widths, bold=True)
    for member in form.team:
        row_of(team, (member.name, member.certificate_no, member.department,
                      "专业人员协助" if member.specialist else ""), team_widths)
    doc.add_paragraph()
    questions = table(fact_widths)
    row_of(questions, ("现场解答疑难问题（个）", ""), fact_widths, height=writing)
    for text in SIGNATURE_LINES:
        paragraph = doc.add_paragraph(text)
        paragraph.paragraph_format.space_before = Pt(14)
    doc.add_paragraph("检查结果代码：" + "；".join(f"{c} {w}" for c, w in RESULT_WORDING.items()))
    doc.add_paragraph("后续处置代码：" + "；".join(f"{n} {w}" for n, w in HANDLING.items()))
    write_atomically(path, doc.save)


SCHEDULE_HEADERS = ("核查日期", "组（车辆）", "统一社会信用代码", "企业名称", "住所", "检查人员（执法证号）")


def write_schedule_xlsx(title: str, rows: list[tuple], path: Path) -> None:
    """Rows: (day, group, USCC, name, address, team text), in visiting order; landscape A4, every wrapped name shown
    whole (each row as high as its longest cell), the header on every page."""
    book = Workbook()
    sheet = book.active
    sheet.title = "实地核查安排"
    widths = column_widths(sheet, list(SCHEDULE_HEADERS), rows, "landscape", most=48)
    put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = _CENTER
    sheet.merge_cells(f"A1:{get_column_letter(len(SCHEDULE_HEADERS))}1")
    for col, header in enumerate(SCHEDULE_HEADERS, start=1):
        cell = sheet.cell(2, col, wide_header(header, widths[col - 1]))
        cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values, start=1):
            cell = put(sheet, r, col, value)
            cell.border, cell.alignment = _BOX, _WRAP
            if col == 1:
                cell.number_format = "yyyy-mm-dd"
            if col <= 2:
                cell.alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
    set_row_heights(sheet, 1, 2 + len(rows))
    sheet.freeze_panes = "A3"
    print_on_a4(sheet, "landscape", title_rows="2:2")
    write_atomically(path, book.save)
