"""``ssj results import``: a filled 一企一表 (the XLSX this product wrote, edited in WPS or Excel).

The hidden sheet ``ssj`` says which campaign and enterprise the form is for and
where each answer is. Every cell is checked first, with the same rules as the
single entries, and every problem is reported as ``<file>!<sheet>!<cell>: …``;
only a form without problems is stored (the visit, then every filled item), in
one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from workflow.directory import Invalid, parse_date
from workflow.errors import UserError
from workflow.files.forms import ITEM_COLUMNS
from workflow.files.xlsx_reader import XlsxProblem, column_index, open_xlsx
from workflow.importing import UnreadableCell
from workflow.inspection import STATE_LABELS
from workflow.machine import FILL_FORM, RECORD_VISIT, can
from workflow.results import ItemResult, result_problems_by_field
from workflow.services.results import (Recorded, items_on_form, record_result, record_visit, result_of, visit_findings,
                                       visit_of)
from workflow.text_rules import control_character, visible

FORM_SHEET = "一企一表"
MAP_SHEET = "ssj"
FORM_MARKER = "ssj-form-v1"
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_ROWS = 1_048_576
_MAP_ROWS = 10_000  # the hidden sheet: a few lines per item on the form
_VISIT_KEYS = ("date", "officers", "signature", "note", "questions")
_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


class FormRejected(UserError):
    """A filled form with problems: nothing was stored."""


@dataclass(frozen=True)
class FormImport:
    uscc: str
    visit_recorded: bool
    items: int
    reported: bool
    late: bool
    abnormal: bool


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _day(value: Any) -> date:
    """A date as WPS and Excel keep it: a date cell, a serial number, or text in the usual forms."""
    if isinstance(value, UnreadableCell):
        raise Invalid(value.reason)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    return parse_date(value)


def _numbers(value: Any) -> list[int]:
    text = _text(value)
    parts = [p for p in re.split(r"[\s,，、;；/]+", text) if p]
    if not all(p.isdigit() for p in parts):
        raise Invalid(f"“{text}”应为处置代码 1–7，多个用顿号分隔")
    return [int(p) for p in parts]


def _read_form(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The hidden sheet's mapping, then the value of every cell it names (streamed, only as far as the
    last named row). The workbook is recognised as ours by its sheets and marker before any row is read."""
    try:
        with open_xlsx(path) as book:
            if MAP_SHEET not in book.sheet_names or FORM_SHEET not in book.sheet_names:
                raise UserError(f"{path}: 不是本系统生成的一企一表（缺少“{FORM_SHEET}”或隐藏的“{MAP_SHEET}”工作表）")
            mapping = {_text(r[0]): (r[1] if len(r) > 1 else None)
                       for _, r in book.rows(MAP_SHEET, max_rows=_MAP_ROWS) if r and r[0]}
            if _text(mapping.get("form")) != FORM_MARKER:
                raise UserError(f"{path}: 不是本系统生成的一企一表（隐藏的“{MAP_SHEET}”工作表没有本系统的标记）")
            wanted = _cells_named(path, mapping)
            last = max((row for _, row in wanted.values()), default=0)
            values: dict[str, Any] = {}
            for number, row in book.rows(FORM_SHEET, max_rows=_EXCEL_ROWS):
                if number > last:
                    break
                for ref, (column, at_row) in wanted.items():
                    if at_row == number and column <= len(row):
                        values[ref] = row[column - 1]
    except XlsxProblem as exc:
        raise UserError(f"{path}: {exc}") from None
    return mapping, values


def _cells_named(path: str, mapping: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Every cell the mapping names, as (column, row); a mapping someone edited is refused."""
    refs = [_text(mapping.get(f"{key}_cell")) for key in _VISIT_KEYS]
    try:
        refs += [f"{column}{int(row)}" for key, row in mapping.items() if key.startswith("item:")
                 for column in ITEM_COLUMNS.values()]
    except (TypeError, ValueError):
        refs.append("")
    wanted = {}
    for ref in refs:
        m = _REF.fullmatch(ref)
        if not m or int(m[2]) > _EXCEL_ROWS:
            raise UserError(f"{path}: 不是本系统生成的一企一表（隐藏的“{MAP_SHEET}”工作表已被改动：单元格“{ref[:20]}”无效）")
        wanted[ref] = (column_index(m[1]), int(m[2]))
    return wanted


def import_filled_form(uow, path: str) -> FormImport:
    """Read a filled form, check every cell, then store the visit and each filled item in one transaction."""
    name = Path(path).name
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(f"{path}: 一企一表应为 .xlsx 文件（Excel 或 WPS 保存；CSV、DOCX、PDF 不能回填导入）")
    mapping, values = _read_form(path)
    problems: list[str] = []

    def at(cell: str, message: str, where: str = FORM_SHEET) -> None:
        problems.append(f"{name}!{where}!{cell}: {message}")

    def value(ref: str, multiline: bool = False) -> Any:
        """A cell's value; an unreadable cell or text with a control character is a problem (quoted made visible)."""
        found = values.get(ref)
        if isinstance(found, UnreadableCell):
            at(ref, found.reason)
            return None
        refused = isinstance(found, str) and control_character(found, multiline=multiline)
        if refused:
            at(ref, refused)
            return visible(found)
        return found

    campaign, uscc = _text(mapping.get("campaign")), _text(mapping.get("uscc"))
    for cell, written in (("B2", campaign), ("B3", uscc)):  # looked up in the database: never with a NUL
        if refused := control_character(written):
            raise FormRejected(f"{name}!{MAP_SHEET}!{cell}: {refused}")
    with uow:
        try:
            plan = uow.use(campaign).plan
        except UserError as exc:
            raise FormRejected(f"{name}!{MAP_SHEET}!B2: {exc}") from None
        inspection = uow.inspections.get(plan.code, uscc, lock=False)
        if inspection is None:
            raise FormRejected(f"{name}!{MAP_SHEET}!B3: 企业 {uscc} 不是抽查任务“{plan.code}”的抽查对象")
        if not can(inspection.state, FILL_FORM):
            raise FormRejected(f"{name}!{MAP_SHEET}!B3: 企业 {uscc} 当前为“{STATE_LABELS[inspection.state]}”，不能回填"
                               "（须为已分派或已检查）")
        cells = {key: _text(mapping.get(f"{key}_cell")) for key in _VISIT_KEYS}
        visit = None
        visiting = can(inspection.state, RECORD_VISIT)
        if visiting:
            day = None
            try:
                day = _day(values.get(cells["date"]))
            except Invalid as exc:
                at(cells["date"], f"实际核查日期：{exc}")
            officers = [c for c in re.split(r"[\s,，、;；]+", _text(value(cells["officers"]))) if c]
            if day is not None:
                visit = visit_of(day, officers, _text(value(cells["signature"])), _text(value(cells["note"], True)))
                for field, message in visit_findings(uow, inspection, visit):
                    at(cells[field], message)
        questions_text = _text(value(cells["questions"])) or "0"
        if not questions_text.isdigit():
            at(cells["questions"], f"现场解答疑难问题（个）应为整数，实际为“{questions_text}”")
        on_form = items_on_form(uow, inspection)
        results: list[ItemResult] = []
        for key, row in mapping.items():
            if not key.startswith("item:"):
                continue
            code = key[5:]
            cell = {field: f"{column}{int(row)}" for field, column in ITEM_COLUMNS.items()}
            if code not in on_form:
                at(cell["codes"], f"抽查事项“{code}”不在该企业的一企一表上")
                continue
            codes = _text(value(cell["codes"]))
            if not codes:
                continue  # not filled yet: may come with a later form
            try:
                handling = _numbers(value(cell["handling"]))
            except Invalid as exc:
                at(cell["handling"], str(exc))
                continue
            result = result_of(code, codes, finding=_text(value(cell["finding"], True)),
                               method=_text(value(cell["method"])), handling=handling,
                               handling_note=_text(value(cell["handling_note"], True)),
                               questions=int(questions_text) if questions_text.isdigit() and not results else 0)
            for field, message in result_problems_by_field(result):
                at(cell.get(field, cell["codes"]), f"{code}：{message}")
            results.append(result)
        if not results and not visiting:
            at(cells["date"], "表上没有可记录的内容（实地核查已记录，且没有填写任何检查结果）")
        if problems:
            raise FormRejected(problems[0], [*problems, f"导入被拒绝：共 {len(problems)} 个问题，数据库未作任何更改。"])
        if visit is not None:
            record_visit(uow, uscc, visit)
        last = Recorded(False, False, False)
        abnormal = False
        for result in results:
            last = record_result(uow, uscc, result)
            abnormal |= last.abnormal
    return FormImport(uscc, visit is not None, len(results), last.reported, last.late, abnormal)
