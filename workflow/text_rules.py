"""Which characters text from a person's file may hold: checked once, at the door.

A control character in a name breaks everything that later writes it — an XLSX
cell (openpyxl refuses it), a mail header (CR/LF), PostgreSQL (NUL) — far from
the file that brought it. So every importer and the campaign file refuse, per
cell or key, C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F), lone
surrogates and the non-characters U+FFFE/U+FFFF. Tab, line feed and carriage
return are allowed only in a field that may run over several lines (a reason,
a legal basis, a list), never in a name, an address or a code.

Excel and WPS cannot put a control character in an XLSX cell's XML, so they
write it escaped: Word's manual line break pasted into a cell is ``_x000B_``
(a typed ``_x000B_`` is itself escaped as ``_x005F_x000B_``). Our XLSX reader
gives the cell's text unescaped (``unescape_ooxml``), so the character it stands
for is refused here like any other — and a carriage return Excel wrote as
``_x000D_`` in a list is a line break, not six characters of text.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_LINE = re.compile(f"[{_CONTROLS}\t\n\r]")  # one line: no tab, no line break either
_LINES = re.compile(f"[{_CONTROLS}]")


def _code_point(text: str, multiline: bool) -> int | None:
    """The first refused character of ``text``, or None."""
    found = (_LINES if multiline else _LINE).search(text)
    return ord(found.group()) if found else None


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    """A cell's text as Excel and WPS meant it: ``_x000D_`` is a carriage return, ``_x005F_`` an underscore
    (so a typed ``_x000B_`` comes back as typed). Read left to right, as ECMA-376 (ST_Xstring) says."""
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is refused (``含有不可见控制字符（U+000B）``), or None when every character may stay."""
    point = _code_point(text, multiline)
    return None if point is None else f"含有不可见控制字符（U+{point:04X}）"


def any_control_character(values: list[Any]) -> bool:
    """Whether any text among ``values`` may hold a character some field refuses: one look at a whole row.

    ``str.isprintable`` (in C) clears the common row; only a row it doubts is searched."""
    try:
        joined = "".join(values)
    except TypeError:  # numbers, dates and empty cells of an XLSX row
        joined = "".join([v for v in values if v.__class__ is str])
    return not joined.isprintable() and bool(_LINE.search(joined))


def visible(text: str) -> str:
    """``text`` with each refused character shown as ``\\u000b``, to quote it in a message safely."""
    return _LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
