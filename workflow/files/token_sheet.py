"""Where a token lives in an XLSX we send: rows of the hidden sheet ``ssj`` (key, value), kept by WPS and Excel.

``write_token`` adds the rows to a workbook being written; ``read_token`` reads them back
from a returned file (streamed, with the reader's limits), or None when the file has none.
"""

from __future__ import annotations

from pathlib import Path

from workflow.file_tokens import FileToken
from workflow.files.xlsx_reader import XlsxProblem, open_xlsx

SHEET = "ssj"
_KEYS = ("token_campaign", "token_kind", "token_party", "token")
_ROWS = 10_000  # the form's hidden sheet has a few lines per item


def write_token(sheet, found: FileToken) -> None:
    """Append the token's rows to the hidden sheet ``sheet`` (an openpyxl worksheet)."""
    for key, value in zip(_KEYS, (found.campaign, found.kind, found.party, found.token)):
        sheet.append([key, value])


def hidden_sheet(book):
    """The workbook's hidden ``ssj`` sheet (created when missing)."""
    if SHEET in book.sheetnames:
        return book[SHEET]
    sheet = book.create_sheet(SHEET)
    sheet.sheet_state = "hidden"
    sheet.append(["key", "value"])
    return sheet


def read_token(path: Path) -> FileToken | None:
    """The token rows of an XLSX's hidden sheet; None for any other file, or an XLSX without them."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        with open_xlsx(path) as book:
            if SHEET not in book.sheet_names:
                return None
            values = {}
            for _, row in book.rows(SHEET, max_rows=_ROWS):
                if row and len(row) > 1 and row[0] in _KEYS:
                    values[row[0]] = "" if row[1] is None else str(row[1]).strip()
    except XlsxProblem:
        return None
    if not values.get("token"):
        return None
    return FileToken(values.get("token_campaign", ""), values.get("token_kind", ""), values.get("token_party", ""),
                     values["token"])
