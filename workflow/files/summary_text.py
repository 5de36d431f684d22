"""The three parts of a department's summary (亮点、经验做法、存在问题) read from the DOCX or XLSX it sent."""

from __future__ import annotations

from pathlib import Path

from workflow.errors import UserError
from workflow.files.xlsx_reader import XlsxProblem, open_xlsx
from workflow.importing import UnreadableCell

PARTS = {"highlights": "亮点", "practices": "经验做法", "problems": "存在问题"}


def _part_of(line: str) -> str | None:
    text = line.strip().lstrip("一二三四五六七八九十、.．0123456789（）() ")
    for key, label in PARTS.items():
        if text.startswith(label):
            return key
    return None


def _labelled_cells(rows, found: dict[str, list[str]]) -> None:
    """Each label's text, right of it or in the row just below, with one row held at a time."""
    previous: tuple[int, list] | None = None
    for current in _with_end(rows):
        if previous is not None:
            number, row = previous
            below_row = current[1] if current is not None and current[0] == number + 1 else []
            for c, value in enumerate(row):
                part = _part_of(str(value)) if isinstance(value, str) else None
                if not part:
                    continue
                right = row[c + 1] if c + 1 < len(row) else None
                below = below_row[c] if c < len(below_row) else None
                text = right if right not in (None, "") else below
                if text not in (None, "") and not isinstance(text, UnreadableCell):
                    found[part].append(str(text).strip())
        previous = current


def _with_end(rows):
    yield from rows
    yield None


def read_summary_parts(path: Path) -> dict[str, str]:
    """Text under each heading (DOCX paragraphs), or right of / below each label (XLSX); empty when absent."""
    suffix = path.suffix.lower()
    found: dict[str, list[str]] = {key: [] for key in PARTS}
    if suffix == ".docx":
        from docx import Document

        return parts_of_lines(paragraph.text for paragraph in Document(str(path)).paragraphs)
    elif suffix == ".xlsx":
        try:
            with open_xlsx(path) as book:
                for name in book.sheet_names:
                    _labelled_cells(book.rows(name), found)
        except XlsxProblem as exc:
            raise UserError(f"{path}: {exc}") from None
    return {key: "\n".join(lines) for key, lines in found.items()}


def parts_of_lines(lines) -> dict[str, str]:
    """Text under each heading of lines of text (a DOCX's paragraphs, an email's body): a heading is a short line
    starting with 亮点/经验做法/存在问题 (numbered or not), its text after "：" or on the lines below."""
    found: dict[str, list[str]] = {key: [] for key in PARTS}
    current = None
    for line in lines:
        text = line.strip()
        part = _part_of(text) if len(text) <= 20 or text.split("：")[0] in PARTS.values() else None
        if part:
            current = part
            rest = text.split("：", 1)[1].strip() if "：" in text else ""
            if rest:
                found[part].append(rest)
        elif current and text:
            found[current].append(text)
    return {key: "\n".join(lines) for key, lines in found.items()}
