"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

Two bugs are common in public snippets and avoided here: indexing the alphabet
at 31 when the weighted sum is ≡ 0 (mod 31), which rejects valid codes whose
check character is ``0``; and rejecting codes whose first character is a letter.
"""

from __future__ import annotations

import sys
import unicodedata
from array import array
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALID_SYMBOLS = frozenset(ALPHABET)
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise(raw: str) -> str:
    """Trim, fold full-width characters to half-width (NFKC) and upper-case."""
    if raw.isascii():
        return raw.strip().upper()
    return unicodedata.normalize("NFKC", raw).strip().upper()


def check_character(body17: str) -> str:
    """The 18th character for the first 17 (which must be valid symbols)."""
    total = sum(map(mul, map(_VALUE.__getitem__, body17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


# Each valid symbol's byte translated to its value: the check of a code already known to hold only valid
# (ASCII) symbols is then one C-level pass (``problem`` runs once per row of a province's directory).
_VALUES = bytes.maketrans(ALPHABET.encode(), bytes(range(len(ALPHABET))))


def problem(code: str) -> str | None:
    """Why a normalised code is not a valid USCC, in Chinese, or None if it is."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实际为 {len(code)} 位"
    if not _VALID_SYMBOLS.issuperset(code):
        return _bad_symbol(code)
    expected = ALPHABET[-sum(map(mul, code.encode().translate(_VALUES), WEIGHTS)) % 31]  # zip stops at 17
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{code[17]}”"
    return None


_SYMBOLS_AND_BREAK = (ALPHABET + "\n").encode()
_LANE_WEIGHTS = (*WEIGHTS, 1)  # the check character counted with weight 1: a valid code's total is ≡ 0 (mod 31)
_MULTIPLES_OF_31 = frozenset(range(0, 31 * 30 * sum(_LANE_WEIGHTS), 31))


def all_valid(codes: list[str]) -> bool:
    """Whether every one of ``codes`` (normalised) is a valid USCC: ``problem`` for a whole column at once.

    An import checks millions of codes, and ``problem``'s per-code arithmetic is most of a row's checking.
    Here the codes are joined, their symbols turned into values by one ``translate``, and the weighted sums
    of all codes are taken together: position p of every code is a byte string (a stride of the joined
    text), widened to 16-bit lanes of one big integer, times its weight; the lanes never carry into each
    other (a sum is at most 30 × 306 < 2^16). Each lane must then be a multiple of 31."""
    if not codes:
        return True
    joined = "\n".join(codes).encode()
    n = len(codes)
    if len(joined) != 19 * n - 1 or joined.count(b"\n") != n - 1 or joined[18::19] != b"\n" * (n - 1) \
            or joined.translate(None, _SYMBOLS_AND_BREAK):
        return False  # a length other than 18 moves a line break off its stride; a symbol outside the alphabet
    values = joined.translate(_VALUES)
    lane = bytearray(2 * n)
    total = 0
    for position, weight in enumerate(_LANE_WEIGHTS):
        lane[0::2] = values[position::19]
        total += weight * int.from_bytes(lane, "little")
    sums = array("H", total.to_bytes(2 * n, "little"))
    if sys.byteorder == "big":
        sums.byteswap()
    return _MULTIPLES_OF_31.issuperset(sums)


def _bad_symbol(code: str) -> str:
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            return f"统一社会信用代码第 {pos} 位“{ch}”不是允许的字符（不含 I、O、Z、S、V）"
    raise AssertionError(code)


def is_valid(code: str) -> bool:
    return problem(code) is None


# GB 11714 organisation code check character, used by example data so that
# positions 9–17 of generated codes look like the real thing.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(body8: str) -> str:
    """Nine-character organisation code (GB 11714) for an 8-character body."""
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(body8, _ORG_WEIGHTS))
    c9 = 11 - total % 11
    return body8 + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def make(registration: str, division: str, body8: str) -> str:
    """A valid USCC from its parts: 2-char registration/kind, 6-digit division, 8-char body."""
    body17 = registration + division + organisation_code(body8)
    return body17 + check_character(body17)
