"""Stream the rows of an office's CSV or XLSX export, whatever its encoding.

CSV encodings are detected, not asked: UTF-8 (with or without BOM) first, then
GB18030, which is what Excel and WPS write on a Chinese Windows. Rows are
yielded one at a time with the number a spreadsheet shows (the header is row 1
when it is on the first line), so a million-row file never sits in memory.
"""

from __future__ import annotations

import codecs
import hashlib
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from workflow.files.xlsx_reader import XlsxProblem, open_xlsx

# A field longer than Python's default (131,072 characters) is legal CSV;
# the importers reject over-long values themselves, with the cell's place.
# A row as a whole is bounded by MAX_ROW_CHARS while it is read (``_bounded_lines``).
MAX_ROW_CHARS = 1_000_000
csv.field_size_limit(MAX_ROW_CHARS)
# A CSV has no row limit of its own (a province's export is millions of rows, beyond Excel's sheet): rows
# are streamed, so memory does not grow with the file. An XLSX sheet keeps its limits (``xlsx_reader``).

_CHUNK = 1 << 20


class FileProblem(Exception):
    """A whole-file problem: the file cannot be read as a table at all."""


@dataclass
class Table:
    path: str
    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    sha256: str
    encoding: str | None = None


def _first_bad_byte(path: Path, encoding: str, digest=None) -> int | None:
    """Where ``path`` stops decoding as ``encoding`` (a byte offset), or None when all of it decodes."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(_CHUNK):
                if digest is not None:
                    digest.update(chunk)
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return max(0, offset + exc.start - len(decoder.getstate()[0]))
    return None


def _line_of(path: Path, offset: int) -> int:
    """The line holding byte ``offset``, counted a chunk at a time (the offset may be gigabytes in)."""
    line = 1
    with open(path, "rb") as fh:
        while offset > 0 and (chunk := fh.read(min(_CHUNK, offset))):
            line += chunk.count(b"\n")
            offset -= len(chunk)
    return line


def detect_encoding(path: Path) -> tuple[str, str]:
    """The file's encoding and its SHA-256, in one pass over it when it is UTF-8."""
    digest = hashlib.sha256()
    utf8_bad = _first_bad_byte(path, "utf-8-sig", digest)
    if utf8_bad is None:
        return "utf-8-sig", digest.hexdigest()
    gb_bad = _first_bad_byte(path, "gb18030")
    if gb_bad is None:
        return "gb18030", file_sha256(path)
    line = _line_of(path, utf8_bad)
    if line > 1:  # the file starts as UTF-8 and changes: two encodings in one file
        raise FileProblem(f"无法识别文件编码：第 {line} 行起不是 UTF-8，而此前的内容是 UTF-8（一个文件只能用一种编码："
                          "UTF-8、带 BOM 的 UTF-8 或 GB18030/GBK；请用 Excel 或 WPS 另存为 CSV UTF-8）")
    raise FileProblem(f"无法识别文件编码：第 {_line_of(path, max(utf8_bad, gb_bad))} 行既不是 UTF-8 也不是 GB18030/GBK"
                      "（支持 UTF-8、带 BOM 的 UTF-8 和 GB18030/GBK；文件可能不是文本表格）")


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_blank(values: list[Any] | tuple[Any, ...]) -> bool:
    for v in values:
        if v is None:
            continue
        if isinstance(v, str) and not v.strip():
            continue
        return False
    return True


def _header_text(v: Any) -> str:
    return "" if v is None else str(v)


@contextmanager
def open_table(path_as_given: str, looks_like_header: Callable[[list[str]], bool]) -> Iterator[Table]:
    """Open a CSV or XLSX (first sheet) as a stream of non-blank rows.

    ``looks_like_header`` picks the header among the first ten rows, so a title
    line above the header (common in exports) does not break the import.
    """
    path = Path(path_as_given)
    if not path.exists():
        raise FileProblem("文件不存在")
    if path.is_dir():
        raise FileProblem("这是一个目录，不是文件")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with _open_csv(path, path_as_given, looks_like_header) as table:
            yield table
    elif suffix in (".xlsx", ".xlsm"):
        with _open_xlsx(path, path_as_given, looks_like_header) as table:
            yield table
    else:
        raise FileProblem(f"不支持的文件类型“{path.suffix or '无扩展名'}”，请提供 .csv 或 .xlsx 文件")


def _find_header(numbered: Iterator[tuple[int, list[Any]]], looks_like_header) -> tuple[int, list[str]]:
    first: tuple[int, list[str]] | None = None
    for _ in range(10):
        try:
            number, values = next(numbered)
        except StopIteration:
            break
        if _is_blank(values):
            continue
        texts = [_header_text(v) for v in values]
        if first is None:
            first = (number, texts)
        if looks_like_header(texts):
            return number, texts
    if first is None:
        raise FileProblem("文件为空，没有表头和数据行")
    return first


def _non_blank(numbered: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for number, values in numbered:
        if not _is_blank(values):
            yield number, values


def _bounded_lines(fh, row_start: list[int]) -> Iterator[str]:
    """The file's lines for ``csv.reader``, refusing a row longer than MAX_ROW_CHARS before it is whole
    (a quoted field may span lines, so the count runs until the reader has taken the row). ``row_start``
    is shared with the reader's loop: ``[characters read when the current row began, characters read]``;
    a generator, not a class, because this runs once a line."""
    readline = fh.readline
    limit = MAX_ROW_CHARS + 1
    chars = line_number = 0
    while line := readline(limit):
        line_number += 1
        chars += len(line)
        if chars - row_start[0] > MAX_ROW_CHARS:
            raise FileProblem(f"第 {line_number:,} 行超过 {MAX_ROW_CHARS:,} 个字符，拒绝读取（不是正常的表格行）")
        row_start[1] = chars
        yield line


@contextmanager
def _open_csv(path: Path, given: str, looks_like_header) -> Iterator[Table]:
    encoding, sha256 = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        row_start = [0, 0]
        reader = csv.reader(_bounded_lines(fh, row_start))

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            number = 0
            try:
                for values in reader:
                    number += 1
                    row_start[0] = row_start[1]
                    if "".join(values).strip():
                        yield number, values
            except csv.Error as exc:
                raise FileProblem(f"第 {number + 1} 行不是有效的 CSV：{exc}") from exc

        rows = numbered()
        header_row, header = _find_header(rows, looks_like_header)
        yield Table(given, header_row, header, rows, sha256, encoding)


@contextmanager
def _open_xlsx(path: Path, given: str, looks_like_header) -> Iterator[Table]:
    try:
        with open_xlsx(path) as book:
            rows = _xlsx_rows(book)
            header_row, header = _find_header(rows, looks_like_header)
            yield Table(given, header_row, header, _non_blank(rows), file_sha256(path))
    except XlsxProblem as exc:
        raise FileProblem(str(exc)) from None


def _xlsx_rows(book) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from book.rows(0)
    except XlsxProblem as exc:
        raise FileProblem(str(exc)) from None
