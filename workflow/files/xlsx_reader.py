"""Read an XLSX from outside without trusting it: bounded memory, refused early, every cell placed.

openpyxl, even in read-only mode, holds the whole shared-string table and
trusts the zip's sizes, so a 400 KB file can cost a gigabyte. Here the zip's
directory is checked before anything is decompressed (entries, declared sizes,
compression ratio, the shared-string table's size), the XML is parsed with
expat as it is decompressed (no DTD, no entities), and every cell and row is
counted while it is read: a file over a limit is refused at once with the cell
or row that broke it. Values are what openpyxl's ``data_only`` gives (a date
cell is a ``datetime``), except that a formula without a cached result or an
error value is an ``UnreadableCell`` saying so, never a silent empty cell.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from posixpath import dirname, join, normpath
from typing import Any
from xml.parsers import expat

from workflow.importing import UnreadableCell
from workflow.text_rules import unescape_ooxml

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What an office's spreadsheet may hold (README, "Importing directories", states them)."""

    rows: int = 200_000               # a county's enterprise list; bigger lists come as CSV
    cell_chars: int = 32_767          # Excel's own cell limit: longer was not written by Excel or WPS
    row_chars: int = 1_000_000        # every cell of one row together
    shared_strings: int = 2_000_000   # entries of the shared-string table (all held in memory)
    shared_strings_bytes: int = 100 * MiB
    uncompressed_bytes: int = 1024 * MiB  # the whole zip, as its directory declares it
    part_bytes: int = 20 * MiB        # workbook.xml, its relations, styles.xml
    ratio: int = 100                  # uncompressed / compressed, for any part over 1 MiB
    entries: int = 10_000


DEFAULT = Limits()
_MAX_COLUMN = 16_384  # XFD
_CHUNK = 1 << 16
_TOKEN_BYTES = 8 * MiB
# Built-in formats that ECMA-376 leaves to the locale: in a Chinese Excel or WPS they are dates and times
# (31 is yyyy"年"m"月"d"日"); openpyxl does not know them and would give the serial number.
_EAST_ASIAN_DATES = frozenset(range(27, 37)) | frozenset(range(50, 59))
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]*)$")
UNCOMPUTED = UnreadableCell("公式没有计算结果（请在 Excel 或 WPS 中打开并保存后再导入）")


class XlsxProblem(Exception):
    """The file is not a readable XLSX or breaks a limit; the message (Chinese) says where."""


def column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def _zip_entries(path: Path) -> int:
    """The entry count of the zip's end record, read before ``ZipFile`` builds one object per entry."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise XlsxProblem("不是有效的 XLSX 文件（文件可能已损坏或不完整）")
    return struct.unpack("<H", tail[at + 10:at + 12])[0]


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


class _Progress:
    """Bytes fed to a parser, and how many of them had been fed at its last event."""

    def __init__(self):
        self.fed = self.seen = 0


def _parser(progress: _Progress, start: Callable | None = None, end: Callable | None = None, text: Callable | None = None):
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def no_doctype(*_):
        raise XlsxProblem("不是有效的 XLSX 文件（含有 DTD 声明）")

    def on_start(name, attrs):
        progress.seen = progress.fed
        if start:
            start(_local(name), attrs)

    def on_end(name):
        progress.seen = progress.fed
        if end:
            end(_local(name))

    def on_text(data):
        progress.seen = progress.fed
        if text:
            text(data)

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = on_start, on_end, on_text
    return parser


def _feed(fh, parser, progress: _Progress, name: str, place: Callable[[], str] = str) -> Iterator[None]:
    """Parse ``fh`` chunk by chunk, pausing after each; a token over ``_TOKEN_BYTES`` is refused (expat would
    hold it whole). ``place()`` names the cell being read, for a character XML does not allow."""
    recent, start = b"", 0  # the last two chunks, and where they begin in the part
    try:
        while chunk := fh.read(_CHUNK):
            if len(recent) > _CHUNK:
                start, recent = start + len(recent) - _CHUNK, recent[-_CHUNK:]
            recent += chunk
            progress.fed += len(chunk)
            parser.Parse(chunk, False)
            if progress.fed - progress.seen > _TOKEN_BYTES:
                raise XlsxProblem(f"{name} 中有超过 {_TOKEN_BYTES // MiB} MB 的单个 XML 标记，不是 Excel 或 WPS 保存的表格，拒绝读取")
            yield
        parser.Parse(b"", True)
        yield
    except expat.ExpatError as exc:
        point = _forbidden_character(exc.code, recent, parser.ErrorByteIndex - start)
        if point is not None:  # e.g. &#x0B;: Excel and WPS write _x000B_ instead
            raise XlsxProblem(f"{place() or name}：含有不可见控制字符（U+{point:04X}），XML 不允许，无法读取") from None
        raise XlsxProblem(f"XLSX 文件内容损坏，无法读取（{name} 第 {exc.lineno} 行：{expat.errors.messages[exc.code]}）") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise XlsxProblem("XLSX 文件内容损坏，无法读取（压缩数据不完整或校验失败）") from exc


_CHAR_REF = re.compile(rb"&#(x[0-9A-Fa-f]{1,8}|[0-9]{1,10});")


def _forbidden_character(code: int, recent: bytes, at: int) -> int | None:
    """The code point expat stopped at when it is one XML forbids (``&#x0B;`` written out, or the raw byte)."""
    inside = 0 <= at < len(recent)
    if inside and code == expat.errors.codes[expat.errors.XML_ERROR_BAD_CHAR_REF] and (m := _CHAR_REF.match(recent, at)):
        return int(m[1][1:], 16) if m[1][:1] == b"x" else int(m[1])
    if inside and code == expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN] and recent[at] < 0x20:
        return recent[at]
    return None


class Workbook:
    """An opened XLSX: its sheet names, then any sheet's rows streamed (``rows``)."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits):
        self._zip, self.limits = archive, limits
        self._check_directory()
        self._sheets: list[tuple[str, str]] = []  # (name, part)
        self._date1904 = False
        workbook = "xl/workbook.xml"
        if "_rels/.rels" in self._zip.NameToInfo:  # the package says where its workbook is
            package = self._relations("", "_rels/.rels")
            workbook = next((t for kind, t in package.values() if kind == "officeDocument"), workbook)
        rels = self._relations(workbook)
        self._read_workbook(workbook, rels)
        self._shared_part = next((t for kind, t in rels.values() if kind == "sharedStrings"), None)
        styles = next((t for kind, t in rels.values() if kind == "styles"), None)
        self._date_styles = self._read_styles(styles) if styles else set()
        self._shared: list[Any] | None = None

    @property
    def sheet_names(self) -> list[str]:
        return [name for name, _ in self._sheets]

    # -- the zip's directory, before any decompression -------------------------------------------

    def _check_directory(self) -> None:
        limits, total = self.limits, 0
        for info in self._zip.infolist():
            total += info.file_size
            if info.file_size > MiB and info.file_size > limits.ratio * max(info.compress_size, 1):
                raise XlsxProblem(f"压缩比异常：{info.filename} 压缩后 {info.compress_size:,} 字节，解压后声明为 "
                                  f"{info.file_size:,} 字节（超过 {limits.ratio} 倍，疑似“压缩炸弹”），拒绝读取")
        if total > limits.uncompressed_bytes:
            raise XlsxProblem(f"解压后共 {total / MiB:,.0f} MB，超过上限 {limits.uncompressed_bytes // MiB} MB，拒绝读取"
                              "（请删去无关的工作表和空行，或另存为 CSV）")

    def _part(self, name: str, limit: int):
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            raise XlsxProblem(f"不是有效的 XLSX 文件（缺少 {name}）") from None
        if info.file_size > limit:
            raise XlsxProblem(f"{name} 解压后 {info.file_size / MiB:,.1f} MB，超过上限 {limit // MiB} MB，拒绝读取")
        return self._zip.open(info)

    def _parse(self, name: str, limit: int, start=None, end=None, text=None) -> None:
        progress = _Progress()
        with self._part(name, limit) as fh:
            for _ in _feed(fh, _parser(progress, start, end, text), progress, name):
                pass

    # -- workbook.xml, its relations, styles.xml ----------------------------------------------------

    def _relations(self, part: str, rels: str = "") -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        base = dirname(part)

        def start(tag, attrs):
            if tag == "Relationship" and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                target = target.lstrip("/") if target.startswith("/") else normpath(join(base, target))
                found[attrs["Id"]] = (attrs.get("Type", "").rpartition("/")[2], target)

        rels = rels or f"{base}/_rels/{part.rpartition('/')[2]}.rels"
        self._parse(rels, self.limits.part_bytes, start)
        return found

    def _read_workbook(self, part: str, rels: dict[str, tuple[str, str]]) -> None:
        def start(tag, attrs):
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), None)
                if rid in rels:
                    self._sheets.append((attrs.get("name", ""), rels[rid][1]))
            elif tag == "workbookPr":
                self._date1904 = attrs.get("date1904", "0") in ("1", "true")

        self._parse(part, self.limits.part_bytes, start)

    def _read_styles(self, part: str) -> set[int]:
        """The indexes of the cell formats that show a number as a date or time."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        custom: dict[int, str] = {}
        xfs: list[int] = []
        where: list[str] = []

        def start(tag, attrs):
            if tag == "numFmt" and attrs.get("numFmtId", "").isdigit():
                custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
            elif tag == "cellXfs":
                where.append(tag)
            elif tag == "xf" and where:
                xfs.append(int(attrs.get("numFmtId", "0")) if attrs.get("numFmtId", "0").isdigit() else 0)

        def end(tag):
            if tag == "cellXfs":
                where.clear()

        if part not in self._zip.NameToInfo:
            return set()
        self._parse(part, self.limits.part_bytes, start, end)
        return {i for i, fmt in enumerate(xfs)
                if fmt in _EAST_ASIAN_DATES and fmt not in custom
                or is_date_format(custom.get(fmt, BUILTIN_FORMATS.get(fmt, "General")))}

    # -- shared strings ---------------------------------------------------------------------------

    def _shared_strings(self) -> list[Any]:
        """The table, each entry a str, or the length of one over the cell limit (reported where it is used)."""
        if self._shared is not None:
            return self._shared
        table: list[Any] = []
        if not self._shared_part or self._shared_part not in self._zip.NameToInfo:
            self._shared = table
            return table
        limits = self.limits
        state = {"depth": 0, "in_t": False, "skip": 0, "n": 0}
        parts: list[str] = []

        def start(tag, attrs):
            if tag == "si":
                parts.clear()
                state["n"] = 0
                if len(table) >= limits.shared_strings:
                    raise XlsxProblem(f"共享字符串表超过 {limits.shared_strings:,} 条，拒绝读取")
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] += 1
            elif tag == "t" and not state["skip"]:
                state["in_t"] = True

        def end(tag):
            if tag == "si":
                table.append(state["n"] if state["n"] > limits.cell_chars else unescape_ooxml("".join(parts)))
                parts.clear()
            elif tag in ("rPh", "phoneticPr"):
                state["skip"] -= 1
            elif tag == "t":
                state["in_t"] = False

        def text(data):
            if state["in_t"]:
                state["n"] += len(data)
                if state["n"] <= limits.cell_chars:
                    parts.append(data)
                else:
                    parts.clear()

        self._parse(self._shared_part, limits.shared_strings_bytes, start, end, text)
        self._shared = table  # only once whole: a table cut short by a problem is never used
        return table

    # -- a sheet's rows ---------------------------------------------------------------------------

    def rows(self, sheet: str | int = 0, max_rows: int | None = None) -> Iterator[tuple[int, list[Any]]]:
        """(row number as the spreadsheet shows it, values from column A) for each row the sheet has."""
        if isinstance(sheet, int):
            if sheet >= len(self._sheets):
                raise XlsxProblem("工作簿中没有工作表")
            name, part = self._sheets[sheet]
        else:
            name, part = next((s for s in self._sheets if s[0] == sheet), (sheet, ""))
            if not part:
                raise XlsxProblem(f"工作簿中没有工作表“{sheet}”")
        if part not in self._zip.NameToInfo:
            raise XlsxProblem(f"不是有效的 XLSX 文件（缺少工作表“{name}”的 {part}）")
        reader = _SheetReader(self, name, max_rows or self.limits.rows)
        progress = _Progress()
        parser = _parser(progress, reader.start, reader.end, reader.on_text)
        with self._zip.open(part) as fh:
            for _ in _feed(fh, parser, progress, part, reader.place):
                yield from reader.take()


class _SheetReader:
    """expat callbacks turning ``<row><c><v>`` into value lists, counting everything as it goes."""

    def __init__(self, book: Workbook, sheet: str, max_rows: int):
        self.book, self.sheet, self.max_rows, self.limits = book, sheet, max_rows, book.limits
        self.done: list[tuple[int, list[Any]]] = []
        self.row_number = self.rows_seen = 0
        self.cells: list[tuple[int, Any]] = []
        self.row_chars = 0
        self.column = 0
        self.ref = ""
        self.kind = self.style = None
        self.formula = self.has_value = self.in_text = False
        self.skip = 0
        self.text: list[str] = []
        self.chars = 0

    def take(self) -> list[tuple[int, list[Any]]]:
        done, self.done = self.done, []
        return done

    def where(self) -> str:
        return f"工作表“{self.sheet}”"

    def place(self) -> str:
        return f"{self.where()}单元格 {self.ref}" if self.ref else self.where()

    def start(self, tag, attrs):
        if tag == "c":
            ref = attrs.get("r", "")
            m = _CELL_REF.match(ref)
            self.column = column_index(m[1]) if m else self.column + 1
            if self.column > _MAX_COLUMN:
                raise XlsxProblem(f"{self.where()}第 {self.row_number} 行的列超出 XFD（{ref}），不是有效的 XLSX 文件")
            self.ref = f"{column_letter(self.column)}{self.row_number}"
            self.kind, self.style = attrs.get("t", "n"), attrs.get("s")
            self.formula = self.has_value = False
            self.text, self.chars = [], 0
        elif tag == "row":
            r = attrs.get("r", "")
            self.row_number = int(r) if r.isdigit() else self.row_number + 1
            self.rows_seen += 1
            if self.row_number > self.max_rows or self.rows_seen > self.max_rows:
                raise XlsxProblem(f"{self.where()}超过 {self.max_rows:,} 行（第 {self.row_number:,} 行），拒绝读取"
                                  "（请拆分文件，或另存为 CSV）")
            self.cells, self.row_chars, self.column = [], 0, 0
        elif tag in ("v", "t") and not self.skip:
            self.in_text = True
            self.has_value |= tag == "v" or self.kind == "inlineStr"
        elif tag == "f":
            self.formula = True
        elif tag == "rPh":
            self.skip += 1
        elif tag == "dimension":
            self.check_dimension(attrs.get("ref", ""))

    def check_dimension(self, ref: str) -> None:
        m = re.fullmatch(r"[A-Z]{0,3}\d*:?[A-Z]{0,3}(\d+)", ref)
        if m and int(m[1]) > self.max_rows:
            raise XlsxProblem(f"{self.where()}声明有 {int(m[1]):,} 行（{ref}），超过上限 {self.max_rows:,} 行，拒绝读取"
                              "（请删去多余的行或拆分文件，或另存为 CSV）")

    def on_text(self, data):
        if not self.in_text:
            return
        self.chars += len(data)
        if self.chars > self.limits.cell_chars:
            raise XlsxProblem(f"{self.where()}单元格 {self.ref} 超过 {self.limits.cell_chars:,} 个字符"
                              "（Excel 单元格的上限），不是 Excel 或 WPS 正常保存的表格，拒绝读取")
        self.text.append(data)

    def end(self, tag):
        if tag in ("v", "t"):
            self.in_text = False
        elif tag == "rPh":
            self.skip -= 1
        elif tag == "c":
            value = self.value("".join(self.text))
            if value is not None:
                if len(self.cells) >= _MAX_COLUMN:
                    raise XlsxProblem(f"{self.where()}第 {self.row_number} 行的单元格超过 {_MAX_COLUMN:,} 个")
                self.cells.append((self.column, value))
        elif tag == "row":
            if self.cells:
                values: list[Any] = [None] * max(c for c, _ in self.cells)
                for column, value in self.cells:
                    values[column - 1] = value
                self.done.append((self.row_number, values))
            self.cells = []

    def value(self, text: str) -> Any:
        kind = self.kind
        if self.formula and not self.has_value or self.formula and not text and kind not in ("str", "s", "inlineStr"):
            return UNCOMPUTED
        if kind == "s":
            if not text.strip().isdigit():
                raise XlsxProblem(f"{self.where()}单元格 {self.ref} 的共享字符串编号“{text[:20]}”无效，文件已损坏")
            table = self.book._shared_strings()
            index = int(text)
            if index >= len(table):
                raise XlsxProblem(f"{self.where()}单元格 {self.ref} 引用了不存在的共享字符串（第 {index} 条），文件已损坏")
            value = table[index]
            if isinstance(value, int):
                raise XlsxProblem(f"{self.where()}单元格 {self.ref} 有 {value:,} 个字符，超过 {self.limits.cell_chars:,}"
                                  " 个（Excel 单元格的上限），不是 Excel 或 WPS 正常保存的表格，拒绝读取")
            return self.counted(value)
        if kind in ("inlineStr", "str"):
            return self.counted(unescape_ooxml(text)) if self.has_value else None
        if not self.has_value or text == "":
            return None
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "e":
            return UnreadableCell(f"单元格是错误值 {text[:20]}" + ("（公式计算出错）" if self.formula else ""))
        if kind == "d":
            from datetime import datetime

            try:
                return datetime.fromisoformat(text.strip())
            except ValueError:
                return self.counted(text)
        return self.number(text.strip())

    def counted(self, text: str) -> str:
        self.row_chars += len(text)
        if self.row_chars > self.limits.row_chars:
            raise XlsxProblem(f"{self.where()}第 {self.row_number} 行的内容超过 {self.limits.row_chars:,} 个字符，拒绝读取")
        return text

    def number(self, text: str) -> Any:
        try:
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise XlsxProblem(f"{self.where()}单元格 {self.ref} 的数值“{text[:20]}”无效，文件已损坏") from None
        if self.style is not None and self.style.isdigit() and int(self.style) in self.book._date_styles:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

            try:
                return from_excel(value, CALENDAR_MAC_1904 if self.book._date1904 else CALENDAR_WINDOWS_1900)
            except (ValueError, OverflowError):
                return value
        return value


@contextmanager
def open_xlsx(path: Path | str, limits: Limits = DEFAULT) -> Iterator[Workbook]:
    """The workbook, its zip checked and its workbook part read; rows are read on demand."""
    path = Path(path)
    if not path.exists():
        raise XlsxProblem("文件不存在")
    entries = _zip_entries(path)
    if entries > limits.entries:
        raise XlsxProblem(f"压缩包内有 {entries:,} 个条目，超过上限 {limits.entries:,}，不是 Excel 或 WPS 保存的表格")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise XlsxProblem("不是有效的 XLSX 文件（文件可能已损坏或不完整）") from exc
    with archive:
        yield Workbook(archive, limits)
