"""GB 32100-2015 check character, against a reference written from the standard's text."""

import random

import pytest

from workflow import uscc

REF_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REF_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def reference_check(body17: str) -> str:
    s = sum(REF_ALPHABET.index(c) * w for c, w in zip(body17, REF_WEIGHTS))
    c18 = 31 - s % 31
    return "0" if c18 == 31 else REF_ALPHABET[c18]


def test_agrees_with_reference_on_random_bodies():
    rng = random.Random(1)
    for _ in range(5000):
        body = "".join(rng.choice(REF_ALPHABET) for _ in range(17))
        code = body + reference_check(body)
        assert uscc.is_valid(code)
        wrong = REF_ALPHABET[(REF_ALPHABET.index(code[17]) + 1) % 31]
        assert not uscc.is_valid(body + wrong)


def test_check_character_zero_is_accepted():
    # The classic bug: sum ≡ 0 (mod 31) indexes alphabet[31] and rejects the code.
    rng = random.Random(2)
    while True:
        body = "91130110" + "".join(rng.choice(REF_ALPHABET) for _ in range(9))
        if sum(REF_ALPHABET.index(c) * w for c, w in zip(body, REF_WEIGHTS)) % 31 == 0:
            break
    assert uscc.check_character(body) == "0"
    assert uscc.problem(body + "0") is None


def test_code_starting_with_a_letter_is_accepted():
    body = "Y1130110" + "MA0ABCDE1"
    assert uscc.problem(body + reference_check(body)) is None


def test_full_width_and_lower_case_are_normalised():
    body = "91130110MA0ABCDE1"
    code = body + reference_check(body)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert uscc.normalise(f"  {full_width} ") == code


@pytest.mark.parametrize(
    "code, expected",
    [
        ("9113011", "应为 18 位，实际为 7 位"),
        ("91130110MA0ABCDEI1", "第 17 位“I”不是允许的字符"),
    ],
)
def test_problems_are_explained_in_chinese(code, expected):
    assert expected in uscc.problem(code)


def test_wrong_check_character_names_the_right_one():
    body = "91130110MA0ABCDE1"
    right = reference_check(body)
    wrong = "1" if right != "1" else "2"
    assert uscc.problem(body + wrong) == f"统一社会信用代码校验位错误：应为“{right}”，实际为“{wrong}”"


def test_generated_codes_are_valid_and_in_the_division():
    code = uscc.make("91", "130110", "MA0ABCDE")
    assert code[2:8] == "130110" and uscc.is_valid(code)


def test_a_whole_column_is_valid_exactly_when_every_code_is():
    """``all_valid`` (one pass over a column, for the import) must agree with ``problem`` code by code: one bad
    code anywhere in a column — a wrong check character, a symbol outside the alphabet, a short code beside a
    long one, a line break — makes the column doubtful."""
    rng = random.Random(7)
    good = []
    for _ in range(400):
        body = "".join(rng.choice(REF_ALPHABET) for _ in range(17))
        good.append(body + reference_check(body))
    assert uscc.all_valid(good) and uscc.all_valid(good[:1]) and uscc.all_valid([])
    code = good[123]
    bad_codes = [
        code[:17] + REF_ALPHABET[(REF_ALPHABET.index(code[17]) + 1) % 31],
        code[:5] + "I" + code[6:],  # I, O, Z, S, V are not symbols
        code[:5] + "\n" + code[6:],
        code.lower(),
        code[:17],
        code + "0",
    ]
    for bad in bad_codes:
        column = [*good[:123], bad, *good[124:]]
        assert not uscc.all_valid(column), bad
        assert any(uscc.problem(c) for c in column)
    shifted = [*good[:10], good[10][:17], good[11] + "0", *good[12:]]  # lengths 17 and 19: the total is right
    assert not uscc.all_valid(shifted)
    for _ in range(300):  # a column with one random change agrees with code-by-code checking
        column = list(good[:50])
        at, position = rng.randrange(50), rng.randrange(18)
        column[at] = column[at][:position] + rng.choice(REF_ALPHABET + "IOZ-") + column[at][position + 1:]
        assert uscc.all_valid(column) == all(uscc.problem(c) is None for c in column)
