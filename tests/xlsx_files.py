"""XLSX files written as raw XML into a zip, streamed: hostile ones (millions of rows, a zip bomb, huge
shared strings) in seconds, and small ones with what openpyxl cannot write (a formula without a cached
value, a number in a General cell, shared strings as Excel writes them)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter as column

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
DATE_STYLE, CHINESE_DATE_STYLE = 1, 2  # the cell formats of ``STYLES`` showing a number as a date (numFmtId 14, 31)
STYLES = (f'<styleSheet xmlns="{MAIN}"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
          '<xf numFmtId="31" applyNumberFormat="1"/></cellXfs></styleSheet>')


def cell(ref: str, value) -> str:
    """One ``<c>``: str inline, int/float a number, ("s", n) a shared string, ("f", formula) a formula with no
    cached value, ("date", serial) a number shown as a date (("年月日", serial) in a Chinese built-in format),
    ("e", "#REF!") an error value."""
    if isinstance(value, tuple):
        kind, content = value
        if kind == "s":
            return f'<c r="{ref}" t="s"><v>{content}</v></c>'
        if kind == "f":
            return f'<c r="{ref}"><f>{escape(content)}</f></c>'
        if kind in ("date", "年月日"):
            return f'<c r="{ref}" s="{DATE_STYLE if kind == "date" else CHINESE_DATE_STYLE}"><v>{content}</v></c>'
        if kind == "e":
            return f'<c r="{ref}" t="e"><v>{content}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def row(number: int, values: Iterable) -> str:
    cells = "".join(cell(f"{column(i)}{number}", v) for i, v in enumerate(values, start=1) if v is not None)
    return f'<row r="{number}">{cells}</row>'


def rows(table: Iterable[Iterable], start: int = 1) -> Iterator[str]:
    for number, values in enumerate(table, start=start):
        yield row(number, values)


@dataclass(frozen=True)
class Repeat:
    """``data`` written ``times`` over: deflated once and the block repeated, so a gigabyte costs a CRC pass."""

    data: bytes
    times: int


class _Spliced:
    """A raw-deflate compressor that emits one precomputed, independently decodable block (compressed after a
    full flush, so it references nothing before it) each time the repeated chunk is written."""

    def __init__(self, level: int):
        self.real = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.chunk: bytes | None = None
        self.block = b""

    def repeat(self, chunk: bytes) -> None:
        block = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.chunk, self.block = chunk, block.compress(chunk) + block.flush(zlib.Z_FULL_FLUSH)

    def compress(self, data: bytes) -> bytes:
        if data is self.chunk:
            return self.real.flush(zlib.Z_FULL_FLUSH) + self.block
        return self.real.compress(data)

    def flush(self) -> bytes:
        return self.real.flush()


def _write_stream(archive: zipfile.ZipFile, name: str, pieces: Iterable[str | bytes | Repeat], level: int) -> None:
    with archive.open(name, "w", force_zip64=True) as fh:
        fh._compressor = spliced = _Spliced(level)  # the zip's own writer, with a compressor that can repeat
        batch: list[bytes] = []
        size = 0
        for piece in pieces:
            if isinstance(piece, Repeat):
                fh.write(b"".join(batch))
                batch, size = [], 0
                spliced.repeat(piece.data)
                for _ in range(piece.times):
                    fh.write(piece.data)
                continue
            data = piece.encode() if isinstance(piece, str) else piece
            batch.append(data)
            size += len(data)
            if size > 1 << 20:
                fh.write(b"".join(batch))
                batch, size = [], 0
        fh.write(b"".join(batch))


def write_xlsx(path: Path, sheets: list[tuple[str, Iterable[str | bytes | Repeat]]], *,
               shared: Iterable[str | bytes | Repeat] = (),
               dimension: str | None = None, level: int = 6) -> Path:
    """A workbook of ``sheets`` (name, the ``<row>`` elements), the first declaring ``dimension`` if given;
    ``shared`` are the shared-string entries (``<si>`` elements, or plain text to be wrapped)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        names = [f"xl/worksheets/sheet{i}.xml" for i in range(1, len(sheets) + 1)]
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/'
                         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        entries = "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                          for i, (name, _) in enumerate(sheets, start=1))
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets>'
                                            '</workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(sheets) + 1))
        rels += f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        rels += f'<Relationship Id="rIdT" Type="{REL}/styles" Target="styles.xml"/>'
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{rels}</Relationships>')
        archive.writestr("xl/styles.xml", STYLES)
        for n, (name, body) in enumerate(sheets):
            head = f'<worksheet xmlns="{MAIN}">'
            if n == 0 and dimension:
                head += f'<dimension ref="{dimension}"/>'
            _write_stream(archive, names[n], [head + "<sheetData>", *body, "</sheetData></worksheet>"], level)
        entries_iter = (s if not isinstance(s, str) or s.startswith("<si>") else f"<si><t>{escape(s)}</t></si>"
                        for s in shared)
        _write_stream(archive, "xl/sharedStrings.xml", [f'<sst xmlns="{MAIN}">', *entries_iter, "</sst>"], level)
    return path
